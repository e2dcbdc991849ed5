"""Prometheus metrics (`GET /metrics`, prometheus_client text format).

Counted in process as they happen: SDK call durations (one call runs one step, so this is the
step duration histogram) and SDK call errors, by function. Read from the store at scrape time:
runs by function and status, queue depth, ready and held items, the lag of the oldest ready item,
the kill switch, and firing alerts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mainspring.clock import Clock
from mainspring.domain.ids import ulid_floor
from mainspring.operations.insights import queue_stats
from mainspring.operations.zombies import ZombieStats
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import insights as insights_repo
from mainspring.store.repos import operations as ops_repo

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


class _StoreCollector(Collector):
    """Yields the numbers read just before the scrape (prometheus collectors are synchronous)."""

    def __init__(self) -> None:
        self.latest: dict[str, Any] = {}

    def collect(self) -> Iterator[Metric]:
        data = self.latest
        if not data:
            return
        runs = GaugeMetricFamily(
            "mainspring_runs", "Stored runs by function and status", labels=["function", "status"]
        )
        for slug, counts in sorted(data["runs"].items()):
            for status, count in sorted(counts.items()):
                runs.add_metric([slug, status], count)
        yield runs
        queue = data["queue"]
        for name, value, text in (
            ("mainspring_queue_depth", queue.depth, "Queue items (all kinds, due or not)"),
            ("mainspring_queue_ready", queue.ready, "Queue items due and not leased"),
            ("mainspring_queue_held", queue.held, "Queue items held by a pause / kill switch"),
            (
                "mainspring_queue_oldest_ready_lag_seconds",
                queue.oldest_ready_lag_ms / 1000,
                "How long the oldest ready item has been due",
            ),
            ("mainspring_kill_switch_active", data["killed"], "1 while the kill switch is on"),
        ):
            yield GaugeMetricFamily(name, text, value=value)
        alerts = GaugeMetricFamily("mainspring_alert_firing", "1 per firing rule", labels=["rule"])
        for rule in data["alerts"]:
            alerts.add_metric([rule], 1)
        yield alerts


class _ZombieCollector(Collector):
    """The zombie check's repairs in this process, read from its stats at scrape time."""

    def __init__(self, stats: ZombieStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "mainspring_zombie_runs_repaired",
            "Running runs found with nothing queued, waiting or leased, and re-queued",
            value=self._stats.repaired_total,
        )


class Metrics:
    def __init__(
        self, connector: Connector, clock: Clock, zombies: ZombieStats | None = None
    ) -> None:
        self._connector = connector
        self._clock = clock
        self.registry = CollectorRegistry()
        self._calls = Histogram(
            "mainspring_step_duration_seconds",
            "Duration of SDK calls (each runs one step or plans the next), by function",
            ["function"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._errors = Counter(
            "mainspring_sdk_call_errors",
            "SDK calls that failed (connection, timeout, 5xx) by function",
            ["function"],
            registry=self.registry,
        )
        self._store = _StoreCollector()
        self.registry.register(self._store)
        self.registry.register(_ZombieCollector(zombies or ZombieStats()))

    def observe_call(self, slug: str, seconds: float, ok: bool) -> None:
        """Called by the executor after every SDK call."""
        self._calls.labels(slug).observe(seconds)
        if not ok:
            self._errors.labels(slug).inc()

    async def render(self) -> bytes:
        await self.refresh()
        return generate_latest(self.registry)

    async def refresh(self) -> None:
        """Read the numbers kept in the store; `registry` then yields them (also to OTLP)."""
        now = self._clock()

        def unit(tx: Tx) -> dict[str, Any]:
            return {
                "runs": insights_repo.status_counts_by_function(tx, ulid_floor(0)),
                "queue": queue_stats(tx, now),
                "killed": 1 if ops_repo.kill_switch(tx) is not None else 0,
                "alerts": [row["rule"] for row in ops_repo.alert_states(tx) if row["firing"]],
            }

        self._store.latest = await self._connector.read(unit)
