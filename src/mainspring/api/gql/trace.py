"""A run's trace: `run { trace(preview) }` as a span tree (`reads.trace_tree`), and the output
behind each span's `outputID` (`runTraceSpanOutputByID`)."""

from __future__ import annotations

from typing import Any

import graphql

from mainspring import codec
from mainspring.api.gql.common import function_name, need_run
from mainspring.api.gql.context import Info
from mainspring.domain.durations import parse_instant_ms, rfc3339
from mainspring.reads import trace_tree


async def resolve_trace(node: dict[str, Any], info: Info, preview: bool | None = None) -> Any:
    """The run's span tree (`reads.trace_tree`); `preview` is accepted: there is one shape."""
    run: dict[str, Any] = node["run"]
    run_id = str(run["run_id"])
    reads = info.context.services.reads
    steps = await reads.steps(run_id)
    history = await reads.history(run_id)
    root = trace_tree.tree(
        run,
        function_name(info, str(run["function_id"])),
        history,
        steps,
        started_at=_ms(run["run_started_at"]),
        ended_at=_ms(run["ended_at"]),
    )
    return _span_node(root, run_id, None, queued_at=run["created_at"])


def _ms(instant: str | None) -> int | None:
    return None if instant is None else parse_instant_ms(instant)


def _span_node(
    span: trace_tree.Span, run_id: str, parent: str | None, *, queued_at: str
) -> dict[str, Any]:
    started = rfc3339(span.started_at)
    return {
        "runID": run_id,
        "traceID": run_id,
        "spanID": span.span_id,
        "parentSpanID": parent,
        "name": span.name,
        "status": span.status,
        "attempts": span.attempts,
        "duration": span.duration_ms,
        "outputID": span.output_id,
        "queuedAt": started or queued_at,
        "startedAt": started,
        "endedAt": rfc3339(span.ended_at),
        "childrenSpans": [
            _span_node(child, run_id, span.span_id, queued_at=queued_at) for child in span.children
        ],
        "stepOp": span.op,
        "stepID": span.step_id,
        "stepType": span.step_type,
        "isRoot": span.kind == "run",
        "isUserland": False,
        "metadata": [],
    }


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
        return {"data": None, "error": _error(error)}
    return {"data": codec.dumps(output), "error": None}


async def resolve_span_output(_: None, info: Info, outputID: str) -> Any:
    """The result behind an output id of `reads.trace_tree`: the run's, a step's, or the error
    of one failed attempt (of a step, or of the function's own code)."""
    owner, _at, attempt_text = outputID.partition("@")
    run_id, _sep, step_id = owner.partition(":")
    run = await need_run(info, run_id)
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
    raise graphql.GraphQLError(f"span output not found: {outputID}")
