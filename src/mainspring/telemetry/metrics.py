"""The server's metrics over OTLP, for sites that do not scrape Prometheus.

The source is the same as `GET /metrics` (`operations.metrics.Metrics`): a round on the event
loop refreshes the numbers read from the store and snapshots every Prometheus family; the
OpenTelemetry reader's thread reports that snapshot through observable instruments (same names
and labels). The SDK call histogram is recorded natively, with the Prometheus buckets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource

from mainspring.operations.metrics import BUCKETS, Metrics
from mainspring.operations.periodic import Periodic

STEP_DURATION = "mainspring_step_duration_seconds"
CALL_ERRORS = "mainspring_sdk_call_errors"
REFRESH_S = 5.0  # how often the numbers read from the store are refreshed
_NATIVE = (STEP_DURATION, CALL_ERRORS)
Samples = list[tuple[dict[str, str], float]]


class OtlpMetrics:
    def __init__(self, metrics: Metrics, exporter: MetricExporter, resource: Resource) -> None:
        self._metrics = metrics
        self._snapshot: dict[str, Samples] = {}
        # Its interval is the standard OTEL_METRIC_EXPORT_INTERVAL (ms; 60 s when unset).
        reader = PeriodicExportingMetricReader(exporter)
        view = View(
            instrument_name=STEP_DURATION,
            aggregation=ExplicitBucketHistogramAggregation(list(BUCKETS)),
        )
        self.provider = MeterProvider([reader], resource=resource, views=[view])
        self._meter = self.provider.get_meter("mainspring")
        self._calls = self._meter.create_histogram(
            STEP_DURATION, unit="s", description="Duration of SDK calls, by function"
        )
        self._errors = self._meter.create_counter(
            CALL_ERRORS, description="SDK calls that failed (connection, timeout, 5xx)"
        )
        self._known: set[str] = set(_NATIVE)
        self.rounds = Periodic("otlp metrics", self.refresh, REFRESH_S, wait_first=True)

    def observe_call(self, slug: str, seconds: float, ok: bool) -> None:
        """The executor's per-call hook (beside the Prometheus one)."""
        self._calls.record(seconds, {"function": slug})
        if not ok:
            self._errors.add(1, {"function": slug})

    async def refresh(self) -> None:
        """Read the store's numbers and snapshot them; new families get an instrument."""
        await self._metrics.refresh()
        snapshot: dict[str, Samples] = {}
        kinds: dict[str, str] = {}
        for family in self._metrics.registry.collect():
            if family.name in _NATIVE or family.type not in ("gauge", "counter"):
                continue
            kinds[family.name] = family.type
            wanted = family.name + "_total" if family.type == "counter" else family.name
            snapshot[family.name] = [
                (dict(sample.labels), float(sample.value))
                for sample in family.samples
                if sample.name == wanted
            ]
        self._snapshot = snapshot  # one assignment: the reader thread sees old or new
        for name, kind in kinds.items():
            if name not in self._known:
                self._known.add(name)
                self._instrument(name, kind)

    def _instrument(self, name: str, kind: str) -> None:
        callback = self._observer(name)
        if kind == "counter":
            self._meter.create_observable_counter(name, callbacks=[callback])
        else:
            self._meter.create_observable_gauge(name, callbacks=[callback])

    def _observer(self, name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(value, labels) for labels, value in self._snapshot.get(name, [])]

        return observe

    async def start(self) -> None:
        await self.refresh()
        self.rounds.start()

    async def stop(self) -> None:
        await self.rounds.stop()
        await asyncio.to_thread(self.provider.shutdown)
