"""A run's trace: `run { trace(preview) }` and `runTrace` as a span tree (`reads.trace_tree`),
and the output behind each span's `outputID` (`runTraceSpanOutputByID`)."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.api.gql import shapes
from mainspring.api.gql.context import Info, not_found
from mainspring.api.gql.runs import need_run
from mainspring.domain.durations import parse_instant_ms, rfc3339
from mainspring.reads import trace_tree


async def resolve_trace(node: dict[str, Any], info: Info, preview: bool | None = None) -> Any:
    """The run's span tree (`reads.trace_tree`); `preview` is accepted: there is one shape."""
    return await _trace(info, node["run"])


async def resolve_run_trace(_: None, info: Info, runID: str) -> Any:
    return await _trace(info, await need_run(info, runID, "runID"))


async def _trace(info: Info, run: dict[str, Any]) -> dict[str, Any]:
    run_id = str(run["run_id"])
    reads = info.context.services.reads
    steps = await reads.steps(run_id)
    history = await reads.history(run_id)
    function = await info.context.function(str(run["function_id"]))
    root = trace_tree.tree(
        run,
        function.name if function is not None else str(run["function_id"]),
        history,
        steps,
        started_at=_ms(run["run_started_at"]),
        ended_at=_ms(run["ended_at"]),
        metadata=await reads.metadata(run_id),
    )
    common = {
        "runID": run_id,
        "traceID": run_id,
        "appID": function.app_id if function is not None else "",
        "functionID": function.id if function is not None else str(run["function_id"]),
        "run": shapes.run_v1(run),
    }
    return _span_node(root, None, common, queued_at=run["created_at"])


def _ms(instant: str | None) -> int | None:
    return None if instant is None else parse_instant_ms(instant)


def _span_node(
    span: trace_tree.Span,
    parent: dict[str, Any] | None,
    common: dict[str, Any],
    *,
    queued_at: str,
) -> dict[str, Any]:
    started = rfc3339(span.started_at)
    node: dict[str, Any] = {
        **common,
        **_NOTHING,
        "spanID": span.span_id,
        "parentSpanID": None if parent is None else parent["spanID"],
        "parentSpan": parent,
        "name": span.name,
        "status": span.status,
        "attempts": span.attempts,
        "duration": span.duration_ms,
        "outputID": span.output_id,
        "queuedAt": started or queued_at,
        "startedAt": started,
        "endedAt": rfc3339(span.ended_at),
        "stepOp": span.op,
        "stepID": span.step_id,
        "stepInfo": _step_info(span),
        "stepType": span.step_type,
        "isRoot": span.kind == "run",
        "metadata": span.metadata,
    }
    node["childrenSpans"] = [
        _span_node(child, node, common, queued_at=queued_at) for child in span.children
    ]
    return node


# What we have no data for: no span groups, userland spans, debug sessions or recorded responses.
_NOTHING: dict[str, Any] = {
    "groupID": None,
    "scheduledAt": None,
    "isUserland": False,
    "userlandSpan": None,
    "debugRunID": None,
    "debugSessionID": None,
    "debugPaused": False,
    "skipReason": None,
    "skipExistingRunID": None,
    "response": None,
}


def _step_info(span: trace_tree.Span) -> dict[str, Any] | None:
    """`StepInfo` from what the step's history recorded (sleep until, the awaited event)."""
    detail = span.detail
    if span.kind != "step":
        return None
    if span.op == "SLEEP" and detail.get("until") is not None:
        return {"__typename": "SleepStepInfo", "sleepUntil": detail["until"]}
    if span.op == "WAIT_FOR_EVENT" and detail.get("event") and detail.get("until") is not None:
        return {
            "__typename": "WaitForEventStepInfo",
            "eventName": detail["event"],
            "expression": detail.get("if"),
            "timeout": detail["until"],
            "foundEventID": None,
            "timedOut": None,
        }
    if span.op == "RUN":
        return {"__typename": "RunStepInfo", "type": "step"}
    return None  # an invoke records no triggering event id (InvokeStepInfo requires one)


def resolve_step_info_type(value: dict[str, Any], *_: Any) -> str:
    return str(value["__typename"])


def _error(value: Any) -> dict[str, Any]:
    error = value if isinstance(value, dict) else {"message": str(value)}
    return {
        "message": str(error.get("message") or ""),
        "name": error.get("name"),
        "stack": error.get("stack"),
        "cause": error.get("cause"),
    }


def _answer(output: Any, error: Any) -> dict[str, Any]:
    if error is not None:
        return {"input": None, "data": None, "error": _error(error)}
    return {"input": None, "data": codec.dumps(output), "error": None}


async def resolve_span_output(_: None, info: Info, outputID: str) -> Any:
    """The result behind an output id of `reads.trace_tree`: the run's, a step's, or the error
    of one failed attempt (of a step, or of the function's own code)."""
    owner, _at, attempt_text = outputID.partition("@")
    run_id, _sep, step_id = owner.partition(":")
    run = await need_run(info, run_id, "outputID")
    reads = info.context.services.reads
    if attempt_text:
        attempt = int(attempt_text) if attempt_text.isdigit() else -1
        kinds = ("step.error", "step.failed") if step_id else ("call.error",)
        for entry in await reads.history(run_id):
            if (
                entry["kind"] in kinds
                and (entry["step_id"] or "") == step_id
                and entry["attempt"] == attempt
            ):
                return _answer(None, entry["data"])
    elif not step_id:
        failed = run["status"] == "Failed"
        return _answer(None if failed else run["output"], run["output"] if failed else None)
    else:
        for step in await reads.steps(run_id):
            if step["id"] == step_id:
                return _answer(step["output"], step["error"])
    raise not_found("span output", "outputID", outputID)
