"""A run's trace: trigger events, and one span per step built from its history.

`GET /v2/runs/{id}/trace` answers it; the dashboard's timeline can use the same spans. A span
starts at the step's first history entry (its first attempt, wait or sleep) and ends when its
result was recorded; errors of failed attempts are listed in order.
"""

from __future__ import annotations

from typing import Any

from mainspring.domain.durations import rfc3339


def spans(steps: list[dict[str, Any]], history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps in completion order, then steps still in progress (waiting, sleeping, retrying)."""
    by_step: dict[str, list[dict[str, Any]]] = {}
    for entry in history:
        if entry["step_id"]:
            by_step.setdefault(entry["step_id"], []).append(entry)
    found = []
    done = set()
    for step in steps:
        done.add(step["id"])
        entries = by_step.get(step["id"], [])
        found.append(_span(step["id"], step["name"], entries, step))
    for step_id, entries in by_step.items():
        if step_id not in done:
            found.append(_span(step_id, entries[-1]["step_name"], entries, None))
    return found


def _span(
    step_id: str, name: str | None, entries: list[dict[str, Any]], step: dict[str, Any] | None
) -> dict[str, Any]:
    start = min((entry["at"] for entry in entries), default=None)
    end = step["completed_at"] if step else None
    if start is None:
        start = end
    errors = [
        {"attempt": entry["attempt"], "error": entry["data"]}
        for entry in entries
        if entry["kind"] in ("step.error", "call.error")
    ]
    if step is None:
        status = "Running"
    else:
        status = "Failed" if step["error"] is not None else "Completed"
    return {
        "step_id": step_id,
        "name": name,
        "op": step["op"] if step else entries[-1]["kind"],
        "status": status,
        "attempts": step["attempts"] if step else len(errors) + 1,
        "errors": errors,
        "output": step["output"] if step else None,
        "error": step["error"] if step else None,
        "started_at": rfc3339(start),
        "ended_at": rfc3339(end),
        "duration_ms": None if start is None or end is None else end - start,
        "history": [
            {"at": rfc3339(entry["at"]), "kind": entry["kind"], "data": entry["data"]}
            for entry in entries
        ],
    }
