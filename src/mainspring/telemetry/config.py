"""Whether and where to export, from our settings and the standard OpenTelemetry environment.

Traces are exported when `--otel-endpoint` (`MAINSPRING_OTEL_ENDPOINT`) is given, or when
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` is set; metrics when
`--otel-metrics` is on as well. `OTEL_SDK_DISABLED=true` and `OTEL_TRACES_EXPORTER=none` turn
it off. The protocol is `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `…_METRICS_PROTOCOL` /
`OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or `grpc`); headers, timeouts,
compression and certificates are read by the OpenTelemetry exporters themselves.

No OpenTelemetry import here: with export off the SDK is never loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from mainspring import errors

Protocol = Literal["http/protobuf", "grpc"]
PROTOCOLS: tuple[Protocol, ...] = ("http/protobuf", "grpc")
_ENDPOINT_ENV = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


@dataclass(frozen=True, slots=True)
class OtlpConfig:
    """`endpoint`: the base URL given to us (HTTP: `/v1/traces`, `/v1/metrics` appended;
    gRPC: used as is); None leaves the endpoint to the `OTEL_EXPORTER_OTLP_*` variables."""

    traces_protocol: Protocol
    metrics_protocol: Protocol
    endpoint: str | None
    metrics: bool


def resolve(endpoint: str | None, metrics: bool, environ: Mapping[str, str]) -> OtlpConfig | None:
    """The export to set up, or None when it is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return None
    if not endpoint and not any(environ.get(name) for name in _ENDPOINT_ENV):
        return None
    default = _protocol(environ, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    return OtlpConfig(
        traces_protocol=_protocol(environ, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", default),
        metrics_protocol=_protocol(environ, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", default),
        endpoint=endpoint or None,
        metrics=metrics,
    )


def _protocol(environ: Mapping[str, str], name: str, default: Protocol) -> Protocol:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    for protocol in PROTOCOLS:
        if value == protocol:
            return protocol
    raise errors.ConfigError(f"{name}: {value!r} is not one of {', '.join(PROTOCOLS)}")
