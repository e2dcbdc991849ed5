"""A run's trace, read from its history and memoized steps (pure; unit-tested).

One module renders the history three ways: `spans()` for `GET /v2/runs/{id}/trace` and GraphQL
(one span per step: it starts at the step's first history entry and ends when its result was
recorded; errors of failed attempts in order), and `build()` for the dashboard's timeline (steps
on a time axis). A step that the SDK ran inside a discovery call has no "scheduled" history entry:
the timeline starts it at the entry before its result. Parallel steps are planned together, so
their bars overlap on the axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mainspring.domain.durations import rfc3339

_KIND_OF_START = {
    "step.planned": "step",
    "step.sleep": "sleep",
    "step.waiting": "wait",
    "step.invoking": "invoke",
    "step.request": "request",  # step.fetch / step.ai.infer: one entry per attempt
    "step.waiting_signal": "signal",
}
_OPEN_STATUS = {
    "step": "running",
    "sleep": "sleeping",
    "wait": "waiting",
    "invoke": "invoking",
    "request": "running",
    "signal": "waiting",
}
_END_STATUS = {
    "step.completed": "completed",
    "step.failed": "failed",
    "step.woke": "completed",
    "step.resumed": "completed",
    "step.timed_out": "timed out",
}


@dataclass(slots=True)
class Attempt:
    number: int
    at: int
    error: Any


@dataclass(slots=True)
class TimelineStep:
    step_id: str
    name: str
    kind: str
    start: int
    end: int | None = None
    status: str = "running"
    attempts: list[Attempt] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    error: Any = None
    left_pct: float = 0.0
    width_pct: float = 0.0
    entries: list[dict[str, Any]] = field(default_factory=list)  # its history, in order
    memo: dict[str, Any] | None = None  # its memoized step, once its result was recorded

    @property
    def duration_ms(self) -> int | None:
        return None if self.end is None else self.end - self.start


@dataclass(slots=True)
class Timeline:
    steps: list[TimelineStep]
    start: int
    end: int
    run_errors: list[Attempt] = field(default_factory=list)

    @property
    def span_ms(self) -> int:
        return max(self.end - self.start, 1)


def _step(found: dict[str, TimelineStep], entry: dict[str, Any], start: int) -> TimelineStep:
    step_id = entry["step_id"]
    if step_id not in found:
        kind = _KIND_OF_START.get(entry["kind"], "step")
        name = entry["step_name"] or step_id
        found[step_id] = TimelineStep(step_id, name, kind, start, status=_OPEN_STATUS[kind])
    return found[step_id]


def _apply(found: dict[str, TimelineStep], entry: dict[str, Any], boundary: int) -> None:
    kind, at = entry["kind"], entry["at"]
    if kind in _KIND_OF_START:
        step = _step(found, entry, at)
        step.entries.append(entry)
        if isinstance(entry["data"], dict):
            step.detail.update(entry["data"])
        return
    step = _step(found, entry, boundary)
    step.entries.append(entry)
    if kind == "step.signal_replaced" and isinstance(entry["data"], dict):
        step.detail["replaced_by"] = entry["data"].get("by_run_id")  # it can only time out now
    elif kind == "step.error":
        step.attempts.append(Attempt(int(entry["attempt"] or 0) + 1, at, entry["data"]))
        step.status = "retrying"
    elif kind in _END_STATUS:
        step.end, step.status = at, _END_STATUS[kind]
        if kind == "step.completed" and isinstance(entry["data"], dict):
            step.detail.update(entry["data"])  # a step's type and input (step.ai.wrap)
        if kind == "step.failed":
            step.attempts.append(Attempt(int(entry["attempt"] or 0) + 1, at, entry["data"]))


def read(
    history: list[dict[str, Any]], steps: list[dict[str, Any]]
) -> tuple[dict[str, TimelineStep], list[Attempt]]:
    """The one pass over a run's history: its steps (in the order they first appear, then those
    memoized without history) with their entries and memo, and the run's own call errors."""
    found: dict[str, TimelineStep] = {}
    run_errors: list[Attempt] = []
    boundary = history[0]["at"] if history else 0
    for entry in history:
        if entry["step_id"]:
            _apply(found, entry, boundary)
        elif entry["kind"] == "call.error":
            run_errors.append(Attempt(int(entry["attempt"] or 0) + 1, entry["at"], entry["data"]))
        boundary = entry["at"]
    for memo in steps:
        step = found.get(memo["id"])
        if step is None:  # memoized without history (checkpointed or older records)
            at = int(memo["completed_at"])
            step = found[memo["id"]] = TimelineStep(
                memo["id"], memo["name"] or memo["id"], "step", at, at
            )
            step.status = "failed" if memo["error"] else "completed"
        step.output, step.error, step.memo = memo["output"], memo["error"], memo
    return found, run_errors


def build(
    run: dict[str, Any], history: list[dict[str, Any]], steps: list[dict[str, Any]], now: int
) -> Timeline:
    """Steps in the order they started; bars as percentages of the run's span (up to `now`)."""
    found, run_errors = read(history, steps)
    start = history[0]["at"] if history else now
    end = max([start, *(e["at"] for e in history)])
    if not _ended(run):
        end = max(end, now)
    timeline = Timeline(sorted(found.values(), key=lambda s: s.start), start, end, run_errors)
    for step in timeline.steps:
        stop = step.end if step.end is not None else timeline.end
        step.left_pct = round(100 * (step.start - start) / timeline.span_ms, 2)
        step.width_pct = max(round(100 * (stop - step.start) / timeline.span_ms, 2), 0.5)
    return timeline


def _ended(run: dict[str, Any]) -> bool:
    return run.get("status") not in (None, "Running")


def spans(steps: list[dict[str, Any]], history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps in completion order, then steps still in progress (waiting, sleeping, retrying)."""
    found, _ = read(history, steps)
    done = [found[memo["id"]] for memo in steps]
    return [_span(step) for step in [*done, *(s for s in found.values() if s.memo is None)]]


def _span(step: TimelineStep) -> dict[str, Any]:
    """A span starts at the step's first history entry and ends when its result was recorded."""
    memo, entries = step.memo, step.entries
    start = min((entry["at"] for entry in entries), default=None)
    end = memo["completed_at"] if memo else None
    if start is None:
        start = end
    errors = [
        {"attempt": entry["attempt"], "error": entry["data"]}
        for entry in entries
        if entry["kind"] in ("step.error", "call.error")
    ]
    if memo is None:
        status = "Running"
    else:
        status = "Failed" if memo["error"] is not None else "Completed"
    return {
        "step_id": step.step_id,
        "name": memo["name"] if memo else entries[-1]["step_name"],
        "op": memo["op"] if memo else entries[-1]["kind"],
        "status": status,
        "attempts": memo["attempts"] if memo else len(errors) + 1,
        "errors": errors,
        "output": memo["output"] if memo else None,
        "error": memo["error"] if memo else None,
        "started_at": rfc3339(start),
        "ended_at": rfc3339(end),
        "duration_ms": None if start is None or end is None else end - start,
        "history": [
            {"at": rfc3339(entry["at"]), "kind": entry["kind"], "data": entry["data"]}
            for entry in entries
        ],
        "metadata": [],  # filled by `reads.sdk_data.annotate_spans`
        "userland": [],
    }
