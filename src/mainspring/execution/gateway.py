"""`step.fetch` and `step.ai.infer`: the server makes the request the SDK asked for, between
the SDK's reply and its recording (never inside a transaction), and memoizes the answer as the
step's result, as Inngest's executor does (`handleGeneratorGateway`, `…AIGateway`).

Retries follow the function's policy, like a failed step: a network error, a timeout, 429 or a
5xx answer is retried with backoff (or after the answer's `Retry-After`) while attempts remain;
a retry calls the SDK again, which reports the same request again. With no attempt left,
`step.fetch` memoizes the last answer as it is (fetch() does not throw on a 500) and
`step.ai.infer` memoizes an error the SDK throws into the function. Other 4xx answers to an AI
request fail at once (a retry would not fix a bad request or key), unlike Inngest, which
retries them too. A URL refused by the allow-list, a bad request or an answer over the size
cap fail the step at once.

What is kept: a `step.request` history entry per attempt (method, redacted URL, status,
duration, the request body), the answer as the step's output; never a request header, and
every kept text is scrubbed of the request's secrets (`protocol.redaction`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import orjson

from mainspring import codec
from mainspring.execution import egress, opcodes, retry
from mainspring.protocol import gateway, redaction

# Request bodies kept in history beyond this are cut (the output keeps the whole answer).
KEPT_BODY_BYTES = 64 * 1024
_RETRYABLE_AI_4XX = frozenset({408, 409, 425, 429})


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """One request's verdict: a result to memoize, or an error to retry after `delay_ms`."""

    note: opcodes.Note
    saved: opcodes.SavedStep | None = None
    error: dict[str, Any] | None = None
    delay_ms: int = 0


async def resolve(
    progress: opcodes.Progress,
    context: opcodes.CallContext,
    client: egress.Egress,
    clock: Callable[[], int],
) -> opcodes.Decision:
    """Make every request of `progress` (concurrently) and decide what the answers mean."""
    started = clock()
    calls = progress.requests
    requests: list[gateway.OutgoingRequest | str] = [_request(call) for call in calls]
    exchanges = await asyncio.gather(*(_perform(client, request) for request in requests))
    now = clock()
    outcomes = [
        judge(call, request, exchange, dataclasses.replace(context, now=now), started)
        for call, request, exchange in zip(calls, requests, exchanges, strict=True)
    ]
    return settle(progress, outcomes)


def _request(call: opcodes.GatewayCall) -> gateway.OutgoingRequest | str:
    try:
        return gateway.request_from(call.op, call.opts)
    except gateway.InvalidRequest as exc:
        return str(exc)


async def _perform(
    client: egress.Egress, request: gateway.OutgoingRequest | str
) -> egress.Exchange:
    if isinstance(request, str):
        return egress.Exchange(duration_ms=0, error=request, retryable=False)
    return await client.perform(request)


def settle(progress: opcodes.Progress, outcomes: list[Outcome]) -> opcodes.Decision:
    """Results join the reply's other progress. A request to retry retries the whole call
    (the SDK reports its still-unfinished steps again), keeping the results already in."""
    saved = [o.saved for o in outcomes if o.saved is not None]
    notes = [o.note for o in outcomes]
    failed = [o for o in outcomes if o.error is not None]
    if not failed:
        return dataclasses.replace(
            progress, saved=[*progress.saved, *saved], requests=[], notes=notes
        )
    first, others = failed[0], failed[1:]
    for outcome in others:  # the first one's error is the retry's own history entry
        notes.append(dataclasses.replace(outcome.note, kind="step.error", data=outcome.error))
    return opcodes.Retry(
        delay_ms=max(o.delay_ms for o in failed),
        error=first.error,
        step_id=first.note.step_id,
        step_name=first.note.step_name,
        saved=tuple([*progress.saved, *saved]),
        notes=tuple(notes),
    )


def judge(
    call: opcodes.GatewayCall,
    request: gateway.OutgoingRequest | str,
    exchange: egress.Exchange,
    context: opcodes.CallContext,
    started: int,
) -> Outcome:
    """What one answer means for its step, given the attempts left."""
    secrets = request.secrets if isinstance(request, gateway.OutgoingRequest) else ()
    note = _note(call, request, exchange, context.attempt, started)
    last = context.attempt + 1 >= context.max_attempts
    error = _failure(call.op, exchange, last)
    if error is None:
        memo = _answer(call.op, request, exchange)
        return Outcome(note, saved=opcodes.SavedStep(call.step_id, call.name, call.op, memo))
    error = redaction.scrub(error, secrets)
    if exchange.retryable and not last and _worth_retrying(call.op, exchange):
        delay = retry.retry_after_ms(exchange.retry_after, context.now)
        return Outcome(
            note, error=error, delay_ms=context.retry_delay_ms if delay is None else delay
        )
    saved = opcodes.SavedStep(call.step_id, call.name, call.op, {"error": error}, failed=True)
    return Outcome(note, saved=saved)


def _failure(op: str, exchange: egress.Exchange, last: bool) -> dict[str, Any] | None:
    """The step's error for this answer, or None when the answer is the step's result."""
    if exchange.error is not None:
        name = "AIGatewayError" if op == gateway.AI_OP else "GatewayError"
        label = "AI" if op == gateway.AI_OP else "gateway"
        return {"name": name, "message": f"Error making {label} request: {exchange.error}"}
    status = exchange.status or 0
    if op == gateway.FETCH_OP:  # any answer is fetch()'s result; retry only what may pass
        return None if last or not _transient(status) else _status_error(op, exchange)
    if status > 299:
        return _status_error(op, exchange)
    try:
        orjson.loads(exchange.body)
    except orjson.JSONDecodeError:
        return {"name": "AIGatewayError", "message": "Error making AI request: invalid JSON"}
    return None


def _transient(status: int) -> bool:
    return status == 429 or status >= 500


def _worth_retrying(op: str, exchange: egress.Exchange) -> bool:
    status = exchange.status
    if status is None or status < 300:
        return True  # no answer, or a 2xx that was not JSON
    return _transient(status) or (op == gateway.AI_OP and status in _RETRYABLE_AI_4XX)


def _status_error(op: str, exchange: egress.Exchange) -> dict[str, Any]:
    text = exchange.body.decode(errors="replace")
    try:
        data: Any = orjson.loads(exchange.body)
    except orjson.JSONDecodeError:
        data = text
    label = "AI" if op == gateway.AI_OP else "gateway"
    return {
        "name": "AIGatewayError" if op == gateway.AI_OP else "GatewayError",
        "message": f"Error making {label} request: unsuccessful status code: {exchange.status}",
        "data": data,
        "stack": text,
    }


def _answer(op: str, request: gateway.OutgoingRequest | str, exchange: egress.Exchange) -> Any:
    assert isinstance(request, gateway.OutgoingRequest) and exchange.status is not None
    if op == gateway.AI_OP:
        return {"data": orjson.loads(exchange.body)}
    headers = gateway.response_headers(exchange.headers, exchange.decoded)
    return gateway.fetch_memo(request.shown_url, exchange.status, headers, exchange.body)


def _note(
    call: opcodes.GatewayCall,
    request: gateway.OutgoingRequest | str,
    exchange: egress.Exchange,
    attempt: int,
    started: int,
) -> opcodes.Note:
    """The attempt's `step.request` entry: what went out and how it came back."""
    data: dict[str, Any] = {"kind": "ai" if call.op == gateway.AI_OP else "fetch"}
    if isinstance(request, gateway.OutgoingRequest):
        data.update(method=request.method, url=request.shown_url)
        if request.ai_format:
            data["format"] = request.ai_format
        data["request_body"] = _kept_body(request)
    else:
        data.update(method=None, url=None)
    data.update(status=exchange.status, duration_ms=exchange.duration_ms)
    if exchange.status is not None:
        data["response_bytes"] = len(exchange.body)
    if exchange.error is not None:
        data["error"] = exchange.error
    secrets = request.secrets if isinstance(request, gateway.OutgoingRequest) else ()
    return opcodes.Note(
        "step.request", call.step_id, call.name, started, attempt, redaction.scrub(data, secrets)
    )


def _kept_body(request: gateway.OutgoingRequest) -> Any:
    """The request body as history keeps it: JSON when it is JSON, cut past the limit."""
    body = request.body
    if not body:
        return None
    if len(body) > KEPT_BODY_BYTES:
        return body[:KEPT_BODY_BYTES].decode(errors="replace") + "… (cut)"
    try:
        return codec.loads(body)
    except orjson.JSONDecodeError:
        return body.decode(errors="replace")
