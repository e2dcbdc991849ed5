"""Userland traces: the OTLP `ExportTraceServiceRequest` an SDK posts to `/v1/traces/userland`.

The TypeScript SDK's extended-traces middleware exports with OpenTelemetry's OTLP/HTTP exporter,
which sends OTLP/JSON (`Content-Type: application/json`; trace and span ids in hex, as the OTLP
spec has it); other exporters send the protobuf encoding. Both are decoded with the
`opentelemetry-proto` messages, then flattened into `Span`s.

Every span the SDK exports carries the run it belongs to (`sdk.run.id`) and, when a step was
running, that step (`inngest.step.hash`: the hashed step id, `inngest.step.attempt`). Those and
the SDK's other bookkeeping attributes (`inngest.*`, `sdk.*`, `sys.*`) are taken out of the
user's attributes. The SDK's own `inngest.execution` span (one per call) is marked `sdk_root`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

RUN_ID = "sdk.run.id"
STEP_HASH = "inngest.step.hash"
STEP_ATTEMPT = "inngest.step.attempt"
_BOOKKEEPING_PREFIXES = ("inngest.", "sdk.", "sys.", "_inngest.")
_SDK_SCOPE, _SDK_ROOT_NAME = "inngest", "inngest.execution"
_KINDS = {
    OtlpSpan.SPAN_KIND_INTERNAL: "INTERNAL",
    OtlpSpan.SPAN_KIND_SERVER: "SERVER",
    OtlpSpan.SPAN_KIND_CLIENT: "CLIENT",
    OtlpSpan.SPAN_KIND_PRODUCER: "PRODUCER",
    OtlpSpan.SPAN_KIND_CONSUMER: "CONSUMER",
}
_STATUSES = {Status.STATUS_CODE_OK: "OK", Status.STATUS_CODE_ERROR: "ERROR"}


class Malformed(ValueError):
    """The body is not an OTLP trace export."""


@dataclass(frozen=True, slots=True)
class Span:
    run_id: str | None
    trace_id: str
    span_id: str
    parent_span_id: str | None
    step_id: str | None
    attempt: int | None
    name: str
    kind: str
    scope_name: str | None
    service_name: str | None
    status: str  # UNSET | OK | ERROR
    status_message: str | None
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    size: int  # its protobuf encoding, what the caps count

    @property
    def sdk_root(self) -> bool:
        return self.scope_name == _SDK_SCOPE and self.name == _SDK_ROOT_NAME


def decode(body: bytes, content_type: str) -> list[Span]:
    request = ExportTraceServiceRequest()
    try:
        if "json" in content_type.lower():
            json_format.ParseDict(_hex_ids_to_base64(orjson.loads(body)), request, True)
        else:
            request.ParseFromString(body)
    except (DecodeError, json_format.ParseError, orjson.JSONDecodeError) as exc:
        raise Malformed(f"not an OTLP ExportTraceServiceRequest: {exc}") from None
    return [
        _span(span, scope.scope.name or None, _service(resource.resource.attributes))
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def _hex_ids_to_base64(document: Any) -> Any:
    """OTLP/JSON writes ids in hex; the protobuf JSON mapping reads bytes as base64."""
    if not isinstance(document, dict):
        raise Malformed("the body must be a JSON object")
    for resource in _list(document, "resourceSpans"):
        for scope in _list(resource, "scopeSpans"):
            for span in _list(scope, "spans"):
                _convert(span, ("traceId", "spanId", "parentSpanId"))
                for link in _list(span, "links"):
                    _convert(link, ("traceId", "spanId"))
    return document


def _list(node: Any, key: str) -> list[Any]:
    found = node.get(key) if isinstance(node, dict) else None
    return found if isinstance(found, list) else []


def _convert(node: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(node, dict):
        return
    for key in keys:
        value = node.get(key)
        if isinstance(value, str) and value:
            try:
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise Malformed(f"{key} must be hex") from None


def _service(attributes: Any) -> str | None:
    for pair in attributes:
        if pair.key == "service.name":
            value = _value(pair.value)
            return value if isinstance(value, str) else None
    return None


def _span(span: OtlpSpan, scope_name: str | None, service_name: str | None) -> Span:
    attributes = {pair.key: _value(pair.value) for pair in span.attributes}
    run_id, step_id, attempt = attributes.get(RUN_ID), attributes.get(STEP_HASH), None
    raw_attempt = attributes.get(STEP_ATTEMPT)
    if isinstance(raw_attempt, (int, float)) and not isinstance(raw_attempt, bool):
        attempt = int(raw_attempt)
    user = {k: v for k, v in attributes.items() if not k.startswith(_BOOKKEEPING_PREFIXES)}
    return Span(
        run_id=run_id if isinstance(run_id, str) and run_id else None,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() or None,
        step_id=step_id if isinstance(step_id, str) and step_id else None,
        attempt=attempt,
        name=span.name,
        kind=_KINDS.get(span.kind, "UNSPECIFIED"),
        scope_name=scope_name,
        service_name=service_name,
        status=_STATUSES.get(span.status.code, "UNSET"),
        status_message=span.status.message or None,
        start_ns=int(span.start_time_unix_nano),
        end_ns=int(span.end_time_unix_nano),
        attributes=user,
        size=span.ByteSize(),
    )


def _value(value: AnyValue) -> Any:
    """An OTLP attribute value as JSON: arrays and key/value lists kept, bytes in base64."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {pair.key: _value(pair.value) for pair in value.kvlist_value.values}
    if which == "bytes_value":
        return binascii.b2a_base64(value.bytes_value, newline=False).decode()
    found: Any = getattr(value, which)
    return found
