"""The events a finished run emits: `inngest/function.finished`, `…failed`."""

from __future__ import annotations

from typing import Any

from mainspring.domain import events as names
from mainspring.domain.runs import RunState, RunStatus


def finish_events(
    state: RunState, status: RunStatus, output: Any, error: dict[str, Any] | None, now: int
) -> list[dict[str, Any]]:
    data: dict[str, Any] = {
        "function_id": state.function_slug,
        "run_id": state.run_id,
        "event": state.events[0] if state.events else {},
        "events": state.events,
        "_inngest": {"status": status.value},
    }
    invoked = data["event"]
    if invoked.get("name") == names.FUNCTION_INVOKED:
        meta = (invoked.get("data") or {}).get("_inngest") or {}
        if meta.get("correlation_id"):
            data["correlation_id"] = meta["correlation_id"]
    if status is RunStatus.COMPLETED:
        data["result"] = output
    elif error is not None:
        data["error"] = error
    finished = {"name": names.FUNCTION_FINISHED, "data": data, "ts": now}
    if status is RunStatus.FAILED:
        # The run id as event id de-duplicates racing finalizations of the same run.
        failed = {"name": names.FUNCTION_FAILED, "data": dict(data), "id": state.run_id, "ts": now}
        return [failed, finished]
    if status is RunStatus.CANCELLED:
        cancelled = {
            "name": names.FUNCTION_CANCELLED,
            "data": dict(data),
            "id": state.run_id,
            "ts": now,
        }
        return [cancelled, finished]
    return [finished]
