"""Run metadata, defers and userland traces without a database: the wire parsing, the roll-up,
the span trees, and the decisions a reply's defers and metadata ride on (issue 16)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from mainspring.domain import defers, metadata
from mainspring.execution import opcodes
from mainspring.execution.driver import Reply
from mainspring.protocol import otlp, sidecar, tracecontext
from mainspring.reads import sdk_data
from mainspring.reads.trace_tree import tree

NOW = 1_800_000_000_000
RUN_ID = "01M8XTEP6YANPF3QC9QCXSHNRF"
CTX = opcodes.CallContext(attempt=0, max_attempts=3, retry_delay_ms=200, now=NOW)


def rows(*updates: tuple[str, dict[str, Any]], kind: str = "userland.a") -> list[dict[str, Any]]:
    return [
        {"scope": "run", "kind": kind, "op": op, "values": values, "at": n, "step_id": None,
         "span_id": None}
        for n, (op, values) in enumerate(updates)
    ]  # fmt: skip


def test_updates_roll_up_with_their_ops_in_order() -> None:
    updates = rows(
        ("merge", {"a": 1, "b": "x"}),
        ("add", {"a": 2, "c": 5, "b": 1}),  # adds numbers; a key holding no number is replaced
        ("delete", {"c": None}),
        ("merge", {"d": True}),
    )
    (group,) = metadata.roll_up(updates)
    assert group.values == {"a": 3, "b": 1, "d": True} and group.updated_at == 3
    (replaced,) = metadata.roll_up([*updates, *rows(("set", {"only": 1}))])
    assert replaced.values == {"only": 1}


def test_a_metadata_request_picks_its_scope_from_the_target() -> None:
    values = [{"kind": "userland.k", "values": {"v": 1}}]
    (run,) = metadata.parse_request({"target": {"run_id": RUN_ID}, "metadata": values}, RUN_ID)
    assert (run.scope, run.step_id, run.op) == ("run", None, "merge")
    (step,) = metadata.parse_request(
        {"target": {"step_id": "s", "step_index": 2}, "metadata": values}, RUN_ID
    )
    assert step.scope == "step" and step.step_id == hashlib.sha1(b"s:2").hexdigest()
    target = {"step_id": "s", "step_attempt": 0, "span_id": "abc"}
    (span,) = metadata.parse_request({"target": target, "metadata": values}, RUN_ID)
    assert (span.scope, span.step_id, span.span_id) == (
        "extended_trace",
        hashlib.sha1(b"s").hexdigest(),
        "abc",
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"kind": "", "values": {}}, "m.kind"),
        ({"kind": "k" * 129, "values": {}}, "m.kind"),
        ({"kind": "inngest.internal", "values": {}}, "m.kind"),
        ({"kind": "userland.k", "op": "multiply", "values": {}}, "m.op"),
        ({"kind": "userland.k", "values": "v"}, "m.values"),
        ("not an object", "m"),
    ],
)
def test_bad_updates_name_their_field(raw: Any, field: str) -> None:
    with pytest.raises(metadata.Invalid) as refused:
        metadata.parse_update(raw, "m", scope="run")
    assert refused.value.field == field


def test_a_metadata_update_past_64_kib_is_too_large() -> None:
    with pytest.raises(metadata.TooLarge):
        metadata.parse_update(
            {"kind": "userland.k", "values": {"v": "x" * 65_536}}, "m", scope="run"
        )
    ok = metadata.parse_update(
        {"kind": "inngest.ai", "values": {"tokens": 3}}, "m", scope="step_attempt"
    )
    assert ok.scope == "step" and ok.size == len("tokens") + 1


def test_the_sidecar_of_a_reply_holds_its_defers_and_step_metadata() -> None:
    body = [
        {"op": "StepRun", "id": "h1", "data": 1, "metadata": [
            {"kind": "userland.default", "scope": "step", "op": "set", "values": {"a": 1}},
            {"kind": "userland.p", "scope": "run", "op": "set", "values": {"b": 2}},
            {"kind": "inngest.forged", "scope": "step", "op": "set", "values": {}},
        ]},
        {"op": "DeferAdd", "id": "d1", "userland": {"id": "keep"},
         "opts": {"fn_slug": "app-later", "input": {"x": 1}}},
        {"op": "DeferAdd", "id": "d2", "opts": {"fn_slug": "app-later", "input": [1]}},
        {"op": "DeferAbort", "id": "d3:abort", "opts": {"target_hashed_id": "d3"}},
    ]  # fmt: skip
    found = sidecar.from_ops(body)
    assert [(m.scope, m.step_id, m.values) for m in found.metadata] == [
        ("step", "h1", {"a": 1}),
        ("run", None, {"b": 2}),
    ]
    assert found.defers == (
        defers.DeferAdd("d1", "keep", "app-later", {"x": 1}),
        defers.DeferAbort("d3", None, ""),
    )
    assert sidecar.from_ops([{"op": "StepRun", "id": "h", "data": 1}]) is sidecar.NONE


def reply(body: Any, *, no_retry: bool = False) -> Reply:
    return Reply(206, body, True, no_retry, None, 2)


def test_a_reply_s_sidecar_rides_on_its_decision() -> None:
    add = {"op": "DeferAdd", "id": "d1", "opts": {"fn_slug": "app-later", "input": {}}}
    done = opcodes.decide(reply([add, {"op": "RunComplete", "id": "c", "data": 7}]), CTX)
    assert isinstance(done, opcodes.Complete) and done.output == 7
    assert [d.hashed_id for d in done.sidecar.defers] == ["d1"]
    step = opcodes.decide(reply([{"op": "StepRun", "id": "a", "data": 1}, add]), CTX)
    assert isinstance(step, opcodes.Progress) and step.continues_at_once
    assert not step.parallel and len(step.sidecar.defers) == 1


def test_the_function_s_own_error_beside_defers_is_the_run_s_not_a_step_s() -> None:
    add = {"op": "DeferAdd", "id": "d1", "opts": {"fn_slug": "app-later", "input": {}}}
    error = {"name": "Error", "message": "boom"}
    failed = {"op": "StepFailed", "id": opcodes.RUN_COMPLETE_ID, "error": error}
    decision = opcodes.decide(reply([add, failed]), CTX)
    assert isinstance(decision, opcodes.Fail) and decision.output == error
    assert len(decision.sidecar.defers) == 1
    retried = opcodes.decide(reply([add, {**failed, "op": "StepError"}]), CTX)
    assert isinstance(retried, opcodes.Retry) and retried.step_id is None
    last = opcodes.CallContext(attempt=2, max_attempts=3, retry_delay_ms=200, now=NOW)
    assert isinstance(
        opcodes.decide(reply([add, {**failed, "op": "StepError"}]), last), opcodes.Fail
    )


def test_a_defer_s_schedule_event_is_the_same_every_time() -> None:
    event = defers.schedule_event(
        run_id=RUN_ID, parent_slug="app-fn", parent_function_id="f1", parent_app_id="a1",
        hashed_id="d1", fn_slug="app-later", data={"x": 1}, now=NOW,
    )  # fmt: skip
    assert event["name"] == "inngest/deferred.schedule" and event["data"]["x"] == 1
    assert event["data"]["_inngest"]["parent_run_id"] == RUN_ID
    assert event["id"] == defers.event_id(RUN_ID, "d1") != defers.event_id(RUN_ID, "d2")
    assert event["id"][:10] == RUN_ID[:10]  # the run's time


def test_traceparent_carries_the_run_as_its_trace_id() -> None:
    header = tracecontext.traceparent(RUN_ID, "step")
    version, trace_id, span_id, flags = header.split("-")
    assert (version, flags, len(span_id)) == ("00", "01", 16)
    from ulid import ULID

    assert trace_id == ULID.from_str(RUN_ID).bytes.hex()
    assert len(tracecontext.trace_id("not-a-ulid")) == 32


def export(*spans: Span) -> ExportTraceServiceRequest:
    service = KeyValue(key="service.name", value=AnyValue(string_value="svc"))
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[service]),
                scope_spans=[ScopeSpans(spans=list(spans))],
            )
        ]
    )


def attr(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def test_otlp_protobuf_and_json_decode_to_the_same_spans() -> None:
    span = Span(
        trace_id=bytes(range(16)),
        span_id=bytes(range(8)),
        parent_span_id=bytes(range(1, 9)),
        name="work",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_000_000_000,
        end_time_unix_nano=3_500_000_000,
        status=Status(code=Status.STATUS_CODE_ERROR, message="bad"),
        attributes=[
            attr("sdk.run.id", string_value=RUN_ID),
            attr("inngest.step.hash", string_value="h1"),
            attr("inngest.step.attempt", int_value=2),
            attr("inngest.traceparent", string_value="00-x"),
            attr("app.tags", array_value=ArrayValue(values=[AnyValue(int_value=1)])),
        ],
    )
    request = export(span)
    (binary,) = otlp.decode(request.SerializeToString(), "application/x-protobuf")
    assert (binary.run_id, binary.step_id, binary.attempt) == (RUN_ID, "h1", 2)
    assert binary.attributes == {"app.tags": [1]} and binary.service_name == "svc"
    assert (binary.kind, binary.status, binary.status_message) == ("CLIENT", "ERROR", "bad")
    assert binary.span_id == bytes(range(8)).hex() and binary.size == span.ByteSize()
    # OTLP/JSON as OpenTelemetry JS writes it: hex ids, times as strings, enums as numbers.
    document = {
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
            "scopeSpans": [{"scope": {"name": "app"}, "spans": [{
                "traceId": bytes(range(16)).hex(), "spanId": bytes(range(8)).hex(),
                "parentSpanId": bytes(range(1, 9)).hex(), "name": "work", "kind": 3,
                "startTimeUnixNano": "1000000000", "endTimeUnixNano": "3500000000",
                "status": {"code": 2, "message": "bad"},
                "attributes": [
                    {"key": "sdk.run.id", "value": {"stringValue": RUN_ID}},
                    {"key": "inngest.step.hash", "value": {"stringValue": "h1"}},
                    {"key": "inngest.step.attempt", "value": {"intValue": 2}},
                    {"key": "app.tags", "value": {"arrayValue": {"values": [{"intValue": "1"}]}}},
                ],
            }]}],
        }],
    }  # fmt: skip
    (text,) = otlp.decode(json.dumps(document).encode(), "application/json; charset=utf-8")
    assert text.span_id == binary.span_id and text.parent_span_id == binary.parent_span_id
    assert (text.run_id, text.step_id, text.attributes) == (RUN_ID, "h1", {"app.tags": [1]})
    assert (text.start_ns, text.end_ns, text.scope_name) == (1_000_000_000, 3_500_000_000, "app")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xff\xff", "application/x-protobuf"),
        (b"[1]", "application/json"),
        (b"{not json", "application/json"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "zz"}]}]}]}', "json"),
    ],
)
def test_what_is_no_otlp_export_is_malformed(body: bytes, content_type: str) -> None:
    with pytest.raises(otlp.Malformed):
        otlp.decode(body, content_type)


def view(span_id: str, parent: str | None, step: str | None = "s1") -> dict[str, Any]:
    return {"span_id": span_id, "parent_span_id": parent, "step_id": step, "children": []}


def test_spans_nest_under_their_parent_their_step_or_the_run_and_loops_are_cut() -> None:
    spans = [
        view("a", "sdk-root"),  # its parent (the SDK's own span) was not stored
        view("b", "a"),
        view("c", None, step=None),
        view("x", "y"),  # a loop sent by a confused exporter
        view("y", "x"),
        view("self", "self"),
    ]
    roots = sdk_data.nest(spans)
    assert [s["span_id"] for s in roots["s1"]] == ["a", "x", "self"]
    assert [s["span_id"] for s in roots["s1"][0]["children"]] == ["b"]
    assert [s["span_id"] for s in roots["s1"][1]["children"]] == ["y"]
    assert [s["span_id"] for s in roots[sdk_data.RUN]] == ["c"]


def test_metadata_hangs_on_the_run_span_and_its_step_span_in_the_graphql_tree() -> None:
    entries = sdk_data.metadata_views(
        [
            {"scope": "run", "kind": "userland.r", "op": "set", "values": {"r": 1}, "at": NOW,
             "step_id": None, "span_id": None},
            {"scope": "step", "kind": "userland.s", "op": "set", "values": {"s": 1}, "at": NOW,
             "step_id": "a", "span_id": None},
        ]
    )  # fmt: skip
    history = [{"at": 0, "kind": "step.completed", "step_id": "a", "step_name": "a",
                "attempt": 0, "data": None}]  # fmt: skip
    steps = [{"id": "a", "name": "a", "op": "StepRun", "output": 1, "error": None,
              "attempts": 1, "completed_at": 0}]  # fmt: skip
    root = tree({"run_id": "R", "status": "Running"}, "fn", history, steps,
                started_at=0, ended_at=None, metadata=entries)  # fmt: skip
    assert [m["kind"] for m in root.metadata] == ["userland.r"]
    assert root.children[0].metadata == [
        {
            "scope": "step",
            "kind": "userland.s",
            "values": {"s": 1},
            "updatedAt": entries[1]["updated_at"],
        }
    ]
