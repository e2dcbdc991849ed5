"""The export set up from `telemetry.config`: OTLP exporters (HTTP/protobuf or gRPC), the
SDK's `BatchSpanProcessor` for traces, and the metrics reader. Imported only when export is on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from mainspring import __version__
from mainspring.clock import Clock
from mainspring.operations.metrics import Metrics
from mainspring.store import redact_url
from mainspring.store.base import Connector
from mainspring.supervision import Component
from mainspring.telemetry.config import OtlpConfig, Protocol
from mainspring.telemetry.export import TraceExport
from mainspring.telemetry.metrics import OtlpMetrics
from mainspring.telemetry.run_spans import Origin

log = logging.getLogger("mainspring.telemetry")


def span_exporter(protocol: Protocol, endpoint: str | None) -> SpanExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpans,
        )

        return GrpcSpans(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpans,
    )

    return HttpSpans(endpoint=_http(endpoint, "traces"))


def metric_exporter(protocol: Protocol, endpoint: str | None) -> MetricExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcMetrics,
        )

        return GrpcMetrics(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter as HttpMetrics,
    )

    return HttpMetrics(endpoint=_http(endpoint, "metrics"))


def _http(endpoint: str | None, signal: str) -> str | None:
    """Our flag is a base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` is: the signal's path added."""
    return None if endpoint is None else f"{endpoint.rstrip('/')}/v1/{signal}"


class Telemetry:
    """The running export: started and stopped by the composition root's lifespan."""

    def __init__(
        self,
        config: OtlpConfig,
        connector: Connector,
        metrics: Metrics,
        function_name: Callable[[str], str | None],
        clock: Clock,
        environment: str | None = None,
    ) -> None:
        # Resource.create adds OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME to ours.
        attributes = {"service.name": "mainspring", "service.version": __version__}
        if environment is not None:  # an environment other than the default one
            attributes["deployment.environment.name"] = environment
        resource = Resource.create(attributes)
        self._processor = BatchSpanProcessor(span_exporter(config.traces_protocol, config.endpoint))
        origin = Origin(resource, InstrumentationScope("mainspring", __version__))
        self.traces = TraceExport(connector, self._processor, origin, function_name, clock)
        self.metrics: OtlpMetrics | None = None
        if config.metrics:
            exporter = metric_exporter(config.metrics_protocol, config.endpoint)
            self.metrics = OtlpMetrics(metrics, exporter, resource)
        self._config = config

    def observe_call(self, slug: str, seconds: float, ok: bool) -> None:
        if self.metrics is not None:
            self.metrics.observe_call(slug, seconds, ok)

    def components(self) -> list[Component]:
        rounds = [self.traces.rounds, *([self.metrics.rounds] if self.metrics else [])]
        return [component for loop in rounds for component in loop.components()]

    async def start(self) -> None:
        self.traces.start()
        if self.metrics is not None:
            await self.metrics.start()
        config = self._config
        log.info(
            "OpenTelemetry export on: traces (%s)%s to %s",
            config.traces_protocol,
            f", metrics ({config.metrics_protocol})" if config.metrics else "",
            redact_url(config.endpoint) if config.endpoint else "the OTEL_EXPORTER_OTLP_* endpoint",
        )

    async def stop(self) -> None:
        """Export what ended before the stop, then flush (the exporters block: a thread)."""
        await self.traces.stop()
        await asyncio.to_thread(self._processor.shutdown)
        if self.metrics is not None:
            await self.metrics.stop()
