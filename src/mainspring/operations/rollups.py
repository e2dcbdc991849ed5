"""Per-minute rollups, maintained by a periodic round (not on the write path).

Each round recomputes whole minutes from runs and history and upserts them: the current minute,
and a closed minute until a round has run `SETTLE_MS` after its end (a run's commit may lag its
`ended_at` by a group-commit tick, never by seconds). Recomputing and replacing (never adding)
makes a round idempotent, so any number of processes on one PostgreSQL may run it: they write the
same numbers. The step path pays nothing but the `runs_by_end` index; a run is read by about
60 s / interval rounds.

Run numbers belong to a minute by when the run started (started) or ended (completed, failed,
cancelled, duration); steps belong to the minute their run ended, so a step's failures show
once its run is over.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mainspring.clock import Clock
from mainspring.domain.ids import ulid_floor
from mainspring.operations import histogram
from mainspring.operations.insights import queue_stats
from mainspring.operations.periodic import Periodic
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import insights as insights_repo
from mainspring.store.repos import rollups as rollups_repo

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
CATCH_UP_MINUTES = 60  # the first round after a start fills in the last hour
SETTLE_MS = 5_000  # a closed minute is recomputed until a round runs this long after it
DEAD_LETTER_WINDOW_MS = 3_600_000  # each sample counts the failed runs of the hour before it
_START_KINDS = {"step.planned", "step.request"}
_OTHER_STARTS = {"step.sleep", "step.waiting", "step.invoking", "step.waiting_signal"}
_STEP_RESULTS = {"step.error", "step.completed", "step.failed"}
_ENDED = {"Completed": "completed", "Failed": "failed", "Cancelled": "cancelled"}


def minute_of(ms: int) -> int:
    return ms - ms % MINUTE_MS


def hour_of(ms: int) -> int:
    return ms - ms % HOUR_MS


@dataclass(slots=True)
class FunctionMinute:
    started: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    durations: histogram.Histogram = field(default_factory=dict)


@dataclass(slots=True)
class StepMinute:
    completed: int = 0
    failed: int = 0
    errors: int = 0
    durations: histogram.Histogram = field(default_factory=dict)


def function_minutes(
    started: Sequence[Row], ended: Sequence[Row]
) -> dict[tuple[str, int], FunctionMinute]:
    found: dict[tuple[str, int], FunctionMinute] = {}
    for row in started:
        key = (row["function_slug"], int(row["minute"]))
        found.setdefault(key, FunctionMinute()).started = int(row["n"])
    for row in ended:
        key = (row["function_slug"], minute_of(int(row["ended_at"])))
        slot = found.setdefault(key, FunctionMinute())
        outcome = _ENDED.get(row["status"])
        if outcome is None:
            continue
        setattr(slot, outcome, getattr(slot, outcome) + 1)
        if outcome != "cancelled" and row["started_at"] is not None:
            histogram.add(slot.durations, int(row["ended_at"]) - int(row["started_at"]))
    return found


def step_minutes(history: Sequence[Row]) -> dict[tuple[str, str, int], StepMinute]:
    """Steps of ended runs, from each run's history in order. A step's duration runs from its
    first entry (planned, request) or else from the entry before its result, to its result;
    sleeps, waits and invokes are not steps of work and are left out."""
    found: dict[tuple[str, str, int], StepMinute] = {}
    for _, entries in itertools.groupby(history, key=lambda row: row["run_id"]):
        starts: dict[str, int] = {}
        skipped: set[str] = set()
        boundary: int | None = None
        for entry in entries:
            at, step_id, kind = int(entry["at"]), entry["step_id"], entry["kind"]
            if step_id and kind in _OTHER_STARTS:
                skipped.add(step_id)
            elif step_id and kind in _START_KINDS:
                starts.setdefault(step_id, at)
            elif step_id and step_id not in skipped and kind in _STEP_RESULTS:
                name = entry["step_name"] or step_id
                key = (entry["function_slug"], name, minute_of(int(entry["ended_at"])))
                slot = found.setdefault(key, StepMinute())
                _count_step(slot, kind, at, starts, step_id, boundary)
            boundary = at
    return found


def _count_step(
    slot: StepMinute, kind: str, at: int, starts: dict[str, int], step_id: str, boundary: int | None
) -> None:
    if kind == "step.error":
        slot.errors += 1
        starts.pop(step_id, None)  # the next attempt starts after this entry
    else:
        if kind == "step.completed":
            slot.completed += 1
        else:
            slot.failed += 1
        start = starts.get(step_id, boundary if boundary is not None else at)
        histogram.add(slot.durations, at - start)


class Rollups:
    def __init__(self, connector: Connector, clock: Clock, interval_ms: int) -> None:
        self._connector = connector
        self._clock = clock
        self._settled_until: int | None = None  # minutes before this one are final
        self.rounds = Periodic("rollups", self.roll_once, interval_ms / 1000)

    async def roll_once(self) -> int:
        """Recompute the minutes not settled yet (the last hour after a start); returns how many
        rows were upserted."""
        now = self._clock()
        current = minute_of(now)
        first = current - CATCH_UP_MINUTES * MINUTE_MS
        if self._settled_until is not None:
            first = max(first, self._settled_until)
        count = await self.roll(first, current + MINUTE_MS, now)
        self._settled_until = minute_of(now - SETTLE_MS)
        return count

    async def roll(self, lo: int, hi: int, now: int) -> int:
        """Recompute minutes [lo, hi) and sample the system for the minute of `now`."""

        def read(tx: Tx) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
            functions = function_minutes(
                rollups_repo.started(tx, lo, hi), rollups_repo.ended(tx, lo, hi)
            )
            steps = step_minutes(rollups_repo.step_history(tx, lo, hi))
            return _function_rows(functions), _step_rows(steps), _system_sample(tx, now)

        def write(tx: Tx) -> int:
            rollups_repo.upsert(tx, functions, steps, [system])
            hours = rollups_repo.to_merge(tx, hour_of(lo), hour_of(hi - 1) + HOUR_MS)
            merged = merge_hours(*hours)
            rollups_repo.upsert(tx, *merged)
            return len(functions) + len(steps) + 1 + sum(len(rows) for rows in merged)

        functions, steps, system = await self._connector.read(read)
        return await self._connector.write(write)

    def start(self) -> None:
        self.rounds.start()

    async def stop(self) -> None:
        await self.rounds.stop()


def merge_hours(
    functions: Sequence[Row], steps: Sequence[Row], system: Sequence[Row]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Hour rows from minute rows: counts and histograms added, the system's highest sample."""
    by_function: dict[tuple[str, int], FunctionMinute] = {}
    for row in functions:
        hour = hour_of(int(row["minute"]))
        slot = by_function.setdefault((row["function_slug"], hour), FunctionMinute())
        for count in ("started", "completed", "failed", "cancelled"):
            setattr(slot, count, getattr(slot, count) + int(row[count]))
        histogram.merge(slot.durations, histogram.loads(row["durations"]))
    by_step: dict[tuple[str, str, int], StepMinute] = {}
    for row in steps:
        at = hour_of(int(row["minute"]))
        step = by_step.setdefault((row["function_slug"], row["step_name"], at), StepMinute())
        step.completed += int(row["completed"])
        step.failed += int(row["failed"])
        step.errors += int(row["errors"])
        histogram.merge(step.durations, histogram.loads(row["durations"]))
    hours: dict[int, dict[str, Any]] = {}
    for row in system:
        gauges = hours.setdefault(hour_of(int(row["minute"])), {})
        for key in _GAUGES:
            gauges[key] = max(gauges.get(key, 0), int(row[key]))
    return (
        _function_rows(by_function, HOUR_MS),
        _step_rows(by_step, HOUR_MS),
        [{"span_ms": HOUR_MS, "minute": at, **highest} for at, highest in hours.items()],
    )


_GAUGES = ("queue_depth", "ready", "ready_lag_ms", "in_flight", "dead_letters")


def _function_rows(
    found: dict[tuple[str, int], FunctionMinute], span: int = MINUTE_MS
) -> list[dict[str, Any]]:
    return [
        {
            "function_slug": slug,
            "span_ms": span,
            "minute": minute,
            "started": m.started,
            "completed": m.completed,
            "failed": m.failed,
            "cancelled": m.cancelled,
            "durations": histogram.dumps(m.durations),
        }
        for (slug, minute), m in found.items()
    ]


def _step_rows(
    found: dict[tuple[str, str, int], StepMinute], span: int = MINUTE_MS
) -> list[dict[str, Any]]:
    return [
        {
            "function_slug": slug,
            "step_name": name,
            "span_ms": span,
            "minute": minute,
            "completed": m.completed,
            "failed": m.failed,
            "errors": m.errors,
            "durations": histogram.dumps(m.durations),
        }
        for (slug, name, minute), m in found.items()
    ]


def _system_sample(tx: Tx, now: int) -> dict[str, Any]:
    queue = queue_stats(tx, now)
    dead_since = ulid_floor(now - DEAD_LETTER_WINDOW_MS)
    return {
        "span_ms": MINUTE_MS,
        "minute": minute_of(now),
        "queue_depth": queue.depth,
        "ready": queue.ready,
        "ready_lag_ms": queue.oldest_ready_lag_ms,
        "in_flight": rollups_repo.in_flight(tx),
        "dead_letters": insights_repo.dead_letter_count(tx, dead_since),
    }
