"""What an SDK reply means: a pure decision, applied later by the executor in one transaction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mainspring import errors, expressions
from mainspring.domain.durations import deadline_ms
from mainspring.execution.driver import Reply
from mainspring.execution.retry import retry_after_ms
from mainspring.protocol import sidecar
from mainspring.protocol.gateway import GATEWAY_OPS
from mainspring.protocol.opcodes import (
    FUNCTION_ERROR_OPS,
    RUN_COMPLETE_ID,
    SAVED_OPS,
    Op,
    parse_ops,
    step_detail,
)
from mainspring.protocol.sidecar import Sidecar

MAX_SLEEP_MS = 366 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class SavedStep:
    step_id: str
    name: str | None
    op: str
    memo: Any
    failed: bool = False  # memo is `{"error": …}`: recorded as a failed step
    detail: dict[str, Any] | None = None  # kept in its history: `type` and `input` (step.ai.wrap)


@dataclass(frozen=True, slots=True)
class Note:
    """A history entry recorded with the decision (what a server-side request did)."""

    kind: str
    step_id: str
    step_name: str | None
    at: int
    attempt: int | None
    data: Any


@dataclass(frozen=True, slots=True)
class GatewayCall:
    """A request the SDK asks the server to make (`step.fetch`, `step.ai.infer`); its opts may
    hold credentials, so they stay in memory and out of any repr."""

    op: str
    step_id: str
    name: str | None
    opts: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """Work for later: a targeted call of a planned step, or a sleeping step's wake-up."""

    kind: str  # "planned" | "sleep" | "wait" | "invoke" | "signal"
    step_id: str
    name: str | None
    at_ms: int  # when due (planned, sleep) or when it times out (wait, invoke)
    opts: dict[str, Any] = field(default_factory=dict)


# `sidecar`: defers and step metadata that rode with the reply (`protocol.sidecar`), recorded
# with whatever the decision records.


@dataclass(frozen=True, slots=True)
class Complete:
    output: Any
    sidecar: Sidecar = sidecar.NONE


@dataclass(frozen=True, slots=True)
class Fail:
    output: Any
    error: dict[str, Any]
    sidecar: Sidecar = sidecar.NONE


@dataclass(frozen=True, slots=True)
class Retry:
    delay_ms: int
    error: Any
    step_id: str | None = None
    step_name: str | None = None
    saved: tuple[SavedStep, ...] = ()  # results to memoize before the retry
    notes: tuple[Note, ...] = ()
    sidecar: Sidecar = sidecar.NONE


@dataclass(frozen=True, slots=True)
class Progress:
    saved: list[SavedStep] = field(default_factory=list)
    scheduled: list[Scheduled] = field(default_factory=list)
    parallel: bool = False
    errors: list[tuple[str, str | None, Any]] = field(default_factory=list)
    requests: list[GatewayCall] = field(default_factory=list)  # made before recording
    notes: list[Note] = field(default_factory=list)
    sidecar: Sidecar = sidecar.NONE

    @property
    def continues_at_once(self) -> bool:
        """Only results and no new waiting: the next discovery call can go straight away."""
        return bool(self.saved) and not self.scheduled


Decision = Complete | Fail | Retry | Progress


@dataclass(frozen=True, slots=True)
class CallContext:
    attempt: int
    max_attempts: int
    retry_delay_ms: int
    now: int


def error_summary(status: int | None, body: Any) -> dict[str, Any]:
    """The `{error, name, message, stack}` shape lifecycle events carry."""
    source = body if isinstance(body, dict) else {"message": str(body)}
    name = source.get("name") or "Error"
    return {
        "error": f"invalid status code: {status}" if status else str(name),
        "name": name,
        "message": source.get("message") or source.get("error") or "",
        "stack": source.get("stack") or "",
    }


def decide(reply: Reply, context: CallContext) -> Decision:
    if not reply.from_sdk:
        body = reply.body if isinstance(reply.body, dict) else {}
        error = {
            "name": "Error",
            "message": f"reply without {'X-Inngest-SDK'}: {reply.status}",
            **body,
        }
        return _retry_or_fail(reply, context, error)
    if reply.status == 200:
        return Complete(reply.body)
    if reply.status == 206:
        decision = _decide_ops(parse_ops(reply.body), reply, context)
        riders = sidecar.from_ops(reply.body)
        return dataclasses.replace(decision, sidecar=riders) if riders else decision
    error = reply.body if isinstance(reply.body, dict) else {"message": str(reply.body)}
    if reply.no_retry:
        return Fail(error, error_summary(reply.status, error))
    return _retry_or_fail(reply, context, error)


def call_failed(message: str, context: CallContext) -> Decision:
    """The call produced no reply at all (network error, timeout)."""
    error = {"name": "Error", "message": message}
    if context.attempt + 1 >= context.max_attempts:
        return Fail(error, error_summary(None, error))
    return Retry(context.retry_delay_ms, error)


def _retry_or_fail(reply: Reply, context: CallContext, error: Any) -> Decision:
    if context.attempt + 1 >= context.max_attempts:
        return Fail(error, error_summary(reply.status, error))
    delay = retry_after_ms(reply.retry_after, context.now)
    return Retry(context.retry_delay_ms if delay is None else delay, error)


def _decide_ops(ops: list[Op], reply: Reply, context: CallContext) -> Decision:
    for op in ops:
        if op.op == "RunComplete":
            return Complete(op.data)
        if op.id == RUN_COMPLETE_ID and op.op in FUNCTION_ERROR_OPS:
            return function_error(
                op, context, no_retry=reply.no_retry, retry_after=reply.retry_after
            )
    if len(ops) == 1 and ops[0].op == "StepError":
        op = ops[0]
        if not reply.no_retry and context.attempt + 1 < context.max_attempts:
            delay = retry_after_ms(reply.retry_after, context.now)
            return Retry(
                context.retry_delay_ms if delay is None else delay,
                op.error,
                step_id=op.id,
                step_name=op.display_name,
            )
        ops = [Op("StepFailed", op.id, op.name, op.display_name, None, op.error, op.opts)]
    progress = Progress(parallel=len(ops) > 1)
    for op in ops:
        outcome = _apply_op(op, progress, context)
        if outcome is not None:
            return outcome
    return progress


def function_error(
    op: Op, context: CallContext, *, no_retry: bool = False, retry_after: str | None = None
) -> Fail | Retry:
    """The function's own error sent as an op (`RUN_COMPLETE_ID`), not a step's: final when
    StepFailed, no-retry or out of attempts, else the whole call is retried."""
    error = op.error if isinstance(op.error, dict) else {"message": str(op.error)}
    if not error:  # the TS SDK serialized the thrown Error with JSON.stringify: `{}`
        error = {"name": "Error", "message": "the function threw (no details sent)"}
    if op.op == "StepFailed" or no_retry or context.attempt + 1 >= context.max_attempts:
        return Fail(error, error_summary(None, error))
    delay = retry_after_ms(retry_after, context.now)
    return Retry(context.retry_delay_ms if delay is None else delay, error)


def _apply_op(op: Op, progress: Progress, context: CallContext) -> Fail | None:
    if op.op in SAVED_OPS:
        saved = SavedStep(op.id, op.display_name, op.op, _memo(op), detail=step_detail(op))
        progress.saved.append(saved)
    elif op.op in GATEWAY_OPS:
        progress.requests.append(GatewayCall(op.op, op.id, op.display_name, op.opts))
    elif op.op == "StepError":  # inside a multi-op reply: record it as a failed step
        progress.saved.append(SavedStep(op.id, op.display_name, "StepFailed", {"error": op.error}))
    elif op.op == "StepPlanned":
        race = {"race": True} if op.opts.get("parallelMode") == "race" else {}
        progress.scheduled.append(Scheduled("planned", op.id, op.display_name, context.now, race))
    elif op.op == "Sleep":
        return _schedule_sleep(op, progress, context.now)
    elif op.op in ("WaitForEvent", "InvokeFunction"):
        return _schedule_pause(op, progress, context.now)
    elif op.op == "WaitForSignal":
        return _schedule_signal(op, progress, context.now)
    else:
        error = {
            "name": "UnsupportedOpcode",
            "message": f"opcode {op.op} is not supported by this Mainspring version",
        }
        return Fail(error, error_summary(None, error))
    return None


def _schedule_sleep(op: Op, progress: Progress, now: int) -> Fail | None:
    spec = op.opts.get("duration") or op.name or ""
    try:
        wake_at = max(now, deadline_ms(str(spec), now))
    except ValueError:
        error = {"name": "InvalidSleep", "message": f"cannot parse sleep duration {spec!r}"}
        return Fail(error, error_summary(None, error))
    if wake_at - now > MAX_SLEEP_MS:
        error = {"name": "InvalidSleep", "message": "sleeps are limited to one year"}
        return Fail(error, error_summary(None, error))
    progress.scheduled.append(Scheduled("sleep", op.id, op.display_name, wake_at))
    return None


def _schedule_pause(op: Op, progress: Progress, now: int) -> Fail | None:
    """A wait for an event, or for an invoked run's end, with its timeout (default: a year)."""
    timeout = op.opts.get("timeout")
    try:
        expires_at = now + MAX_SLEEP_MS if timeout is None else deadline_ms(str(timeout), now)
    except ValueError:
        error = {"name": "InvalidTimeout", "message": f"cannot parse timeout {timeout!r}"}
        return Fail(error, error_summary(None, error))
    if op.op == "WaitForEvent":
        event = op.opts.get("event") or op.name
        if not event:
            error = {"name": "InvalidWait", "message": "wait_for_event without an event name"}
            return Fail(error, error_summary(None, error))
        expression = op.opts.get("if")
        if expression:  # compiled now: a bad one must fail here, not in every later match
            try:
                expressions.compile_expression(str(expression))
            except errors.InvalidInput as exc:
                error = {"name": "InvalidWait", "message": exc.message}
                return Fail(error, error_summary(None, error))
        opts = {"event": event, "if": expression}
        progress.scheduled.append(Scheduled("wait", op.id, op.display_name, expires_at, opts))
    else:
        opts = {"function_id": op.opts.get("function_id"), "payload": op.opts.get("payload")}
        progress.scheduled.append(Scheduled("invoke", op.id, op.display_name, expires_at, opts))
    return None


def _schedule_signal(op: Op, progress: Progress, now: int) -> Fail | None:
    """`step.waitForSignal`: `{signal, timeout, conflict}`; a conflict fails unless "replace"."""
    signal = op.opts.get("signal") or op.name
    timeout = op.opts.get("timeout")
    if not isinstance(signal, str) or not signal:
        error = {"name": "InvalidWait", "message": "waitForSignal without a signal name"}
        return Fail(error, error_summary(None, error))
    try:
        expires_at = now + MAX_SLEEP_MS if not timeout else deadline_ms(str(timeout), now)
    except ValueError:
        error = {"name": "InvalidTimeout", "message": f"cannot parse timeout {timeout!r}"}
        return Fail(error, error_summary(None, error))
    opts = {"signal": signal, "replace": op.opts.get("conflict") == "replace"}
    progress.scheduled.append(Scheduled("signal", op.id, op.display_name, expires_at, opts))
    return None


def _memo(op: Op) -> Any:
    if op.op == "StepFailed":
        return {"error": op.error}
    if (
        op.op == "Step"
        and isinstance(op.data, dict)
        and op.data
        and set(op.data) <= {"data", "error"}
    ):
        return op.data
    return {"data": op.data}
