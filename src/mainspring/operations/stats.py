"""The charts' numbers for a window (hour, day, week), read from the per-minute rollups.

`GET /v1/functions/{id}/stats`, `GET /v1/operations/stats` and the dashboard's charts show
the same dicts. A window ends with the interval that holds `now`, so the newest bar fills up
while the page is open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mainspring import errors
from mainspring.clock import Clock
from mainspring.domain.durations import rfc3339
from mainspring.operations import histogram
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import rollups as rollups_repo

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    span_ms: int
    interval_ms: int
    rows_ms: int  # which rollup rows it reads: a minute's or an hour's

    def bounds(self, now: int) -> tuple[int, int]:
        hi = now - now % self.interval_ms + self.interval_ms
        return hi - self.span_ms, hi

    @property
    def points(self) -> int:
        return self.span_ms // self.interval_ms


HOUR_MS = 60 * MINUTE_MS
WINDOWS = {
    "hour": Window("hour", HOUR_MS, MINUTE_MS, MINUTE_MS),
    "day": Window("day", 24 * HOUR_MS, HOUR_MS, HOUR_MS),
    "week": Window("week", 7 * 24 * HOUR_MS, HOUR_MS, HOUR_MS),
}
ALIASES = {"1h": "hour", "24h": "day", "1d": "day", "7d": "week"}


def parse_window(text: str | None) -> Window:
    name = ALIASES.get(text or "hour", text or "hour")
    if name not in WINDOWS:
        raise errors.InvalidInput("window must be one of hour, day, week", field="window")
    return WINDOWS[name]


def _index(minute: int, lo: int, window: Window) -> int:
    return (minute - lo) // window.interval_ms


def function_intervals(rows: Sequence[Row], window: Window, lo: int) -> list[dict[str, Any]]:
    counts = [dict(started=0, completed=0, failed=0, cancelled=0) for _ in range(window.points)]
    hists: list[histogram.Histogram] = [{} for _ in range(window.points)]
    for row in rows:
        i = _index(int(row["minute"]), lo, window)
        for key in counts[i]:
            counts[i][key] += int(row[key])
        histogram.merge(hists[i], histogram.loads(row["durations"]))
    return [
        {
            "at": rfc3339(lo + i * window.interval_ms),
            **counts[i],
            "p50_ms": histogram.percentile(hists[i], 50),
            "p95_ms": histogram.percentile(hists[i], 95),
        }
        for i in range(window.points)
    ]


def totals(rows: Sequence[Row], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The window as one number each, in the shape of `GET /v1/metrics/functions/{id}`."""
    counts = {"Completed": 0, "Failed": 0, "Cancelled": 0}
    started = 0
    durations: histogram.Histogram = {}
    for row in rows:
        started += int(row["started"])
        for status in counts:
            counts[status] += int(row[status.lower()])
        histogram.merge(durations, histogram.loads(row["durations"]))
    done = counts["Completed"] + counts["Failed"]
    return {
        "runs": started,
        "counts": counts,
        "success_rate": counts["Completed"] / done if done else None,
        "duration_ms": {q: histogram.percentile(durations, n) for q, n in _QUANTILES},
        "steps": sum(s["completed"] + s["failed"] for s in steps),
        "retries": sum(s["errors"] for s in steps),
    }


_QUANTILES = (("p50", 50), ("p95", 95), ("p99", 99))


def step_summaries(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Per step over the window: attempts, failure rate (failed attempts / attempts), p50/p95,
    and the duration distribution in display bins; slowest p95 first."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        step = merged.setdefault(
            row["step_name"], {"completed": 0, "failed": 0, "errors": 0, "hist": {}}
        )
        for key in ("completed", "failed", "errors"):
            step[key] += int(row[key])
        histogram.merge(step["hist"], histogram.loads(row["durations"]))
    found = []
    for name, step in merged.items():
        attempts = step["completed"] + step["failed"] + step["errors"]
        found.append(
            {
                "name": name,
                "attempts": attempts,
                "completed": step["completed"],
                "failed": step["failed"],
                "errors": step["errors"],
                "failure_rate": (step["failed"] + step["errors"]) / attempts if attempts else None,
                "p50_ms": histogram.percentile(step["hist"], 50),
                "p95_ms": histogram.percentile(step["hist"], 95),
                "distribution": histogram.distribution(step["hist"]),
            }
        )
    found.sort(key=lambda s: (-(s["p95_ms"] or 0), s["name"]))
    return found


def _standouts(steps: list[dict[str, Any]]) -> dict[str, str | None]:
    failing = [s for s in steps if s["failure_rate"]]
    return {
        "slowest_step": steps[0]["name"] if steps else None,
        "failing_step": max(failing, key=lambda s: s["failure_rate"])["name"] if failing else None,
    }


def system_intervals(rows: Sequence[Row], window: Window, lo: int) -> list[dict[str, Any]]:
    """Per interval the highest sample of each gauge (a spike inside an hour stays visible)."""
    keys = ("queue_depth", "ready", "ready_lag_ms", "in_flight", "dead_letters")
    found: list[dict[str, Any]] = [
        {"at": rfc3339(lo + i * window.interval_ms), **dict.fromkeys(keys)}
        for i in range(window.points)
    ]
    for row in rows:
        slot = found[_index(int(row["minute"]), lo, window)]
        for key in keys:
            slot[key] = max(int(row[key]), slot[key] or 0)
    return found


class Stats:
    def __init__(self, connector: Connector, clock: Clock) -> None:
        self._connector = connector
        self._clock = clock

    async def function(self, slug: str, window: Window) -> dict[str, Any]:
        """Runs started/completed/failed and p50/p95 per interval, and per step totals."""
        lo, hi = window.bounds(self._clock())

        def unit(tx: Tx) -> tuple[list[Row], list[Row]]:
            return (
                rollups_repo.function_rows(tx, slug, window.rows_ms, lo, hi),
                rollups_repo.step_rows(tx, slug, window.rows_ms, lo, hi),
            )

        rows, step_rows = await self._connector.read(unit)
        steps = step_summaries(step_rows)
        return {
            "function_id": slug,
            **_frame(window, lo, hi),
            "intervals": function_intervals(rows, window, lo),
            "totals": totals(rows, steps),
            "steps": steps,
            **_standouts(steps),
            "distribution_bounds_ms": list(histogram.DISPLAY_BOUNDS_MS),
        }

    async def system(self, window: Window) -> dict[str, Any]:
        """Queue depth, ready items, ready lag, in-flight calls and dead letters per interval."""
        lo, hi = window.bounds(self._clock())
        rows = await self._connector.read(
            lambda tx: rollups_repo.system_rows(tx, window.rows_ms, lo, hi)
        )
        return {**_frame(window, lo, hi), "intervals": system_intervals(rows, window, lo)}


def _frame(window: Window, lo: int, hi: int) -> dict[str, Any]:
    return {
        "window": window.name,
        "interval_s": window.interval_ms // 1000,
        "from": rfc3339(lo),
        "to": rfc3339(hi),
    }
