"""A run's steps on a time axis, built from its history and memoized steps (pure; unit-tested).

A step that the SDK ran inside a discovery call has no "scheduled" history entry: it started when
the call began, which the history approximates by the entry before its result. Parallel steps are
planned together, so their bars overlap on the axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_KIND_OF_START = {
    "step.planned": "step",
    "step.sleep": "sleep",
    "step.waiting": "wait",
    "step.invoking": "invoke",
}
_OPEN_STATUS = {"step": "running", "sleep": "sleeping", "wait": "waiting", "invoke": "invoking"}
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
        if isinstance(entry["data"], dict):
            step.detail.update(entry["data"])
        return
    step = _step(found, entry, boundary)
    if kind == "step.error":
        step.attempts.append(Attempt(int(entry["attempt"] or 0) + 1, at, entry["data"]))
        step.status = "retrying"
    elif kind in _END_STATUS:
        step.end, step.status = at, _END_STATUS[kind]
        if kind == "step.failed":
            step.attempts.append(Attempt(int(entry["attempt"] or 0) + 1, at, entry["data"]))


def build(
    run: dict[str, Any], history: list[dict[str, Any]], steps: list[dict[str, Any]], now: int
) -> Timeline:
    """Steps in the order they started; bars as percentages of the run's span (up to `now`)."""
    found: dict[str, TimelineStep] = {}
    run_errors: list[Attempt] = []
    boundary = history[0]["at"] if history else now
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
        step.output, step.error = memo["output"], memo["error"]
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
