"""Numbers an operator asks for: per-function metrics, the health summary, queue depth and lag.

Pure helpers (`percentile`, `success_rate`) are separate from the reads so that alert rules and
tests can use them with explicit numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring.clock import Clock
from mainspring.domain.durations import rfc3339
from mainspring.domain.ids import ulid_floor
from mainspring.operations.kill_switch import kill_switch_view
from mainspring.operations.pausing import pause_view
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import insights as insights_repo
from mainspring.store.repos import operations as ops_repo

HOUR_MS = 3_600_000
MAX_DURATION_SAMPLES = 50_000


def percentile(sorted_values: list[int], q: float) -> int | None:
    """Nearest-rank percentile of ascending values (`q` in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n*q/100), at least 1
    return sorted_values[int(rank) - 1]


def success_rate(counts: dict[str, int]) -> float | None:
    """Completed / (Completed + Failed); None without finished runs (cancelled ones don't count)."""
    done = counts.get("Completed", 0) + counts.get("Failed", 0)
    return None if done == 0 else counts.get("Completed", 0) / done


@dataclass(frozen=True, slots=True)
class QueueStats:
    depth: int
    ready: int
    held: int
    oldest_ready_lag_ms: int


def queue_stats(tx: Tx, now: int) -> QueueStats:
    row = insights_repo.queue_stats(tx, now)
    oldest = row["oldest_ready"]
    return QueueStats(
        depth=int(row["depth"] or 0),
        ready=int(row["ready"] or 0),
        held=int(row["held"] or 0),
        oldest_ready_lag_ms=0 if oldest is None else max(0, now - int(oldest)),
    )


class Insights:
    def __init__(self, connector: Connector, clock: Clock) -> None:
        self._connector = connector
        self._clock = clock

    async def function_metrics(self, slug: str, hours: float = 24) -> dict[str, Any]:
        """`GET /v1/metrics/functions/{id}?hours=`: counts by status, success rate, p50/p95/p99
        duration (ms, finished runs), steps and attempts (retries = attempts - steps)."""
        now = self._clock()
        lower = ulid_floor(now - int(hours * HOUR_MS))

        def unit(tx: Tx) -> dict[str, Any]:
            counts = insights_repo.function_status_counts(tx, slug, lower)
            durations = sorted(
                insights_repo.function_durations(tx, slug, lower, MAX_DURATION_SAMPLES)
            )
            steps, attempts = insights_repo.function_attempts(tx, slug, lower)
            last = insights_repo.last_success(tx, slug)
            return {
                "function_id": slug,
                "hours": hours,
                "since": rfc3339(now - int(hours * HOUR_MS)),
                "runs": sum(counts.values()),
                "counts": {status: counts.get(status, 0) for status in _STATUSES},
                "success_rate": success_rate(counts),
                "duration_ms": {
                    "p50": percentile(durations, 50),
                    "p95": percentile(durations, 95),
                    "p99": percentile(durations, 99),
                    "samples": len(durations),
                },
                "steps": steps,
                "attempts": attempts,
                "retries": attempts - steps,
                "last_success_at": rfc3339(last),
            }

        return await self._connector.read(unit)

    async def last_success(self, slug: str) -> str | None:
        """When the function's newest completed run ended (RFC 3339), or None."""
        ended = await self._connector.read(lambda tx: insights_repo.last_success(tx, slug))
        return rfc3339(ended)

    async def summary(
        self, window_ms: int = HOUR_MS, slugs: list[str] | None = None
    ) -> dict[str, Any]:
        """Kill switch, paused functions, queue, dead letters and, per function (those with runs
        in the window plus `slugs`), success rate, p95 duration and time since the last success
        (the health page and `GET /v1/health` without alerts)."""
        now = self._clock()
        lower = ulid_floor(now - window_ms)

        def unit(tx: Tx) -> dict[str, Any]:
            queue = queue_stats(tx, now)
            by_function = insights_repo.status_counts_by_function(tx, lower)
            for slug in slugs or ():
                by_function.setdefault(slug, {})
            return {
                "kill_switch": kill_switch_view(ops_repo.kill_switch(tx)),
                "paused_functions": [
                    pause_view(row, row["function_slug"]) for row in ops_repo.list_pauses(tx)
                ],
                "queue": {
                    "depth": queue.depth,
                    "ready": queue.ready,
                    "held": queue.held,
                    "oldest_ready_lag_ms": queue.oldest_ready_lag_ms,
                },
                "dead_letters": insights_repo.dead_letter_count(tx, lower),
                "window_s": window_ms // 1000,
                "functions": [
                    _function_health(tx, slug, counts, lower, now)
                    for slug, counts in sorted(by_function.items())
                ],
            }

        return await self._connector.read(unit)


_STATUSES = ("Running", "Completed", "Failed", "Cancelled")
HEALTH_DURATION_SAMPLES = 10_000


def _function_health(
    tx: Tx, slug: str, counts: dict[str, int], lower: str, now: int
) -> dict[str, Any]:
    durations = sorted(insights_repo.function_durations(tx, slug, lower, HEALTH_DURATION_SAMPLES))
    last = insights_repo.last_success(tx, slug)
    return {
        "function_id": slug,
        "runs": sum(counts.values()),
        "counts": counts,
        "success_rate": success_rate(counts),
        "p95_duration_ms": percentile(durations, 95),
        "last_success_at": rfc3339(last),
        "seconds_since_last_success": None if last is None else max(0, now - last) // 1000,
    }
