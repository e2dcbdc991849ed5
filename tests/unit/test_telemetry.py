"""OpenTelemetry export, pure parts: when it is on (`telemetry.config`) and the spans one run's
recorded facts make (`telemetry.run_spans`)."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import StatusCode
from ulid import ULID

from mainspring import errors
from mainspring.telemetry import config, ids, run_spans
from mainspring.telemetry.run_spans import Origin, RunFacts

RUN = "01JD0000000000000000000000"
ORIGIN = Origin(Resource.create({"service.name": "mainspring"}), InstrumentationScope("t"))
T0 = 1_800_000_000_000


def test_export_is_off_by_default_and_on_with_an_endpoint() -> None:
    assert config.resolve(None, False, {}) is None
    on = config.resolve("http://collector:4318", True, {})
    assert on is not None and on.endpoint == "http://collector:4318" and on.metrics
    assert on.traces_protocol == "http/protobuf"
    from_env = config.resolve(
        None,
        False,
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
    )
    assert from_env is not None and from_env.endpoint is None
    assert (from_env.traces_protocol, from_env.metrics_protocol) == ("grpc", "grpc")
    assert config.resolve("http://c", False, {"OTEL_SDK_DISABLED": "true"}) is None
    assert config.resolve("http://c", False, {"OTEL_TRACES_EXPORTER": "none"}) is None


def test_an_unknown_protocol_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(errors.ConfigError, match="OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):
        config.resolve("http://c", False, {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"})


def test_ids_are_stable_and_the_trace_is_the_run_ulid() -> None:
    assert ids.trace_id(RUN) == int(ULID.from_str(RUN).hex, 16)  # what our traceparent carries
    assert ids.span_id(RUN, "step", "a") == ids.span_id(RUN, "step", "a")
    assert ids.span_id(RUN, "step", "a") != ids.span_id(RUN, "step", "b")


def entry(
    at: int, kind: str, step: str | None = None, attempt: int | None = None, data: Any = None
) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "step_id": step,
        "step_name": step,
        "attempt": attempt,
        "data": data,
    }


def memo(step: str, op: str, at: int, attempts: int, error: Any = None) -> dict[str, Any]:
    return {
        "id": step,
        "name": step,
        "op": op,
        "output": None,
        "error": error,
        "attempts": attempts,
        "completed_at": at,
    }


def facts(**changes: Any) -> RunFacts:
    history = [
        entry(T0, "run.scheduled"),
        entry(T0 + 20, "step.error", "flaky", 0, {"name": "Error", "message": "once"}),
        entry(T0 + 40, "step.completed", "flaky", 1),
        entry(T0 + 50, "step.sleep", "nap", data={"until": T0 + 60}),
        entry(T0 + 60, "step.woke", "nap"),
        entry(T0 + 70, "step.invoking", "call"),
        entry(T0 + 90, "step.resumed", "call"),
        entry(T0 + 100, "run.completed"),
    ]
    steps = [
        memo("flaky", "Step", T0 + 40, 2),
        memo("nap", "Sleep", T0 + 60, 1),
        memo("call", "InvokeFunction", T0 + 90, 1),
    ]
    userland = [
        {
            "span_id": "00000000000000aa",
            "parent_span_id": "ffffffffffffffff",
            "step_id": "flaky",
            "attempt": 1,
            "name": "db query",
            "kind": "CLIENT",
            "scope_name": "app",
            "service_name": "shop",
            "status": "OK",
            "status_message": None,
            "start_ns": (T0 + 30) * 1_000_000,
            "end_ns": (T0 + 35) * 1_000_000,
            "attributes": {"db.rows": 3, "nested": {"a": 1}},
        }
    ]
    run = {
        "id": RUN,
        "function_slug": "app-fn",
        "event_id": "E1",
        "status": "Completed",
        "output": {"ok": True},
        "created_at": T0,
        "started_at": T0 + 5,
        "ended_at": T0 + 100,
    }
    base = RunFacts(run, "Fn", "app/go", history, steps, userland, invoked={"call": "01JDCHILD"})
    return RunFacts(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})


def by_name(spans: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


def parent_of(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def test_the_tree_of_a_run_with_a_retry_a_sleep_an_invoke_and_userland_spans() -> None:
    spans = run_spans.build(facts(), ORIGIN)
    named = by_name(spans)
    root = named["Fn"]
    assert root.parent is None and root.status.status_code is StatusCode.OK
    assert {span.context.trace_id for span in spans} == {ids.trace_id(RUN)}
    assert root.start_time == T0 * 1_000_000 and root.end_time == (T0 + 100) * 1_000_000
    assert "finalization" not in named  # a clean finish is the root's end
    for child in ("queued", "flaky", "nap", "call"):
        assert parent_of(named[child]) == root.context.span_id, child
    assert named["queued"].end_time == (T0 + 5) * 1_000_000
    flaky = named["flaky"]
    assert flaky.start_time == (T0 + 5) * 1_000_000  # clamped to the first call
    attempts = [span for span in spans if parent_of(span) == flaky.context.span_id]
    assert [(s.name, s.status.status_code) for s in attempts[:2]] == [
        ("attempt 0", StatusCode.ERROR),
        ("attempt 1", StatusCode.OK),
    ]
    assert attempts[0].events[0].name == "exception"
    db = named["db query"]
    assert parent_of(db) == attempts[1].context.span_id  # the SDK's own call span is not kept
    assert db.resource.attributes["service.name"] == "shop"
    assert db.attributes is not None and db.attributes["nested"] == '{"a":1}'
    assert named["nap"].attributes is not None
    assert named["nap"].attributes["mainspring.step.op"] == "Sleep"
    assert not [s for s in spans if parent_of(s) == named["nap"].context.span_id]
    (link,) = named["call"].links
    assert link.context.trace_id == ids.trace_id("01JDCHILD")
    assert link.context.span_id == ids.span_id("01JDCHILD", "run")


def test_a_failed_run_and_a_child_run_of_an_invoke() -> None:
    failed = facts(
        run={**facts().run, "status": "Failed", "output": {"name": "Boom", "message": "no"}},
        invoked_by=("01JDPARENT", "call"),
    )
    root = by_name(run_spans.build(failed, ORIGIN))["Fn"]
    assert root.status.status_code is StatusCode.ERROR
    assert root.status.description == "Boom: no"
    (link,) = root.links
    assert link.context.span_id == ids.span_id("01JDPARENT", "step", "call")


def test_one_attempt_that_worked_is_the_step_and_an_unfinished_one_is_unset() -> None:
    cancelled = facts(
        run={**facts().run, "status": "Cancelled"},
        history=[
            entry(T0, "run.scheduled"),
            entry(T0 + 10, "step.completed", "once", 0),
            entry(T0 + 20, "step.error", "stuck", 0, {"name": "Error", "message": "x"}),
            entry(T0 + 100, "run.cancelled"),
        ],
        steps=[memo("once", "Step", T0 + 10, 1)],
        userland=[],
        invoked={},
    )
    spans = run_spans.build(cancelled, ORIGIN)
    named = by_name(spans)
    assert named["Fn"].status.status_code is StatusCode.UNSET
    assert "finalization" not in named
    once, stuck = named["once"], named["stuck"]
    assert not [span for span in spans if parent_of(span) == once.context.span_id]
    assert once.attributes is not None and once.attributes["mainspring.step.attempt"] == 0
    assert stuck.status.status_code is StatusCode.UNSET
    tries = [span for span in spans if parent_of(span) == stuck.context.span_id]
    assert [(span.name, span.status.status_code) for span in tries] == [
        ("attempt 0", StatusCode.ERROR),
        ("attempt 1", StatusCode.UNSET),
    ]
    assert tries[1].end_time == (T0 + 100) * 1_000_000
