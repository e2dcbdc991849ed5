"""OpenTelemetry export (issue 18): a run's spans reach an OTLP receiver the test starts.

Through the real Python SDK: a 3-step run (one step fails once and is retried, one invokes a
child function) arrives over OTLP/HTTP as one trace with the right parents, names, attributes
and status codes; the child's trace links back to the invoke; a failed run's root is an error;
metrics arrive with `--otel-metrics`; the gRPC exporter reaches a gRPC receiver.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from ulid import ULID

from mainspring.telemetry import pipeline, run_spans
from mainspring.telemetry.run_spans import Origin, RunFacts

from .harness import Stack, running_stack, wait_until
from .otlp_receiver import Received, ReceivedSpan, grpc_receiver, http_receiver

SLUGS = ("otel-traced", "otel-child", "otel-fails")
OK, ERROR = 1, 2  # OTLP Status.StatusCode
FAST_EXPORT = {"OTEL_METRIC_EXPORT_INTERVAL": "300"}  # ms; traces go out every round


@pytest.fixture(scope="module")
def http_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Received]]:
    with http_receiver() as (url, received):
        with running_stack(
            tmp_path_factory.mktemp("otel-http"),
            "otel_app",
            SLUGS,
            server_args=["--otel-endpoint", url, "--otel-metrics"],
            server_env=FAST_EXPORT,
        ) as stack:
            yield stack, received


def trace_of(run_id: str) -> str:
    return ULID.from_str(run_id).hex


def wait_for_spans(
    stack: Stack, received: Received, run_id: str, names: set[str]
) -> list[ReceivedSpan]:
    def probe() -> list[ReceivedSpan] | None:
        spans = received.of_trace(trace_of(run_id))
        return spans if names <= {span.name for span in spans} else None

    return wait_until(
        probe,
        timeout=20,
        what=f"spans {sorted(names)} of run {run_id}",
        on_timeout=stack.server.log_tail,
    )


def one(spans: list[ReceivedSpan], name: str, parent: ReceivedSpan | None = None) -> ReceivedSpan:
    found = [
        span
        for span in spans
        if span.name == name and (parent is None or span.parent_span_id == parent.span_id)
    ]
    assert len(found) == 1, f"{name}: {[(s.name, s.parent_span_id) for s in spans]}"
    return found[0]


def test_a_three_step_run_with_a_retry_and_an_invoke(http_stack: tuple[Stack, Received]) -> None:
    stack, received = http_stack
    run = stack.api.trigger_and_wait("otel/go", {})
    run_id = str(run["run_id"])
    spans = wait_for_spans(stack, received, run_id, {"one", "flaky", "call-child"})

    (root,) = [span for span in spans if not span.parent_span_id]
    assert root.attributes["mainspring.run.id"] == run_id
    assert root.attributes["mainspring.function.id"] == "otel-traced"
    assert root.attributes["mainspring.run.status"] == "Completed"
    assert root.attributes["mainspring.event.name"] == "otel/go"
    assert root.status_code == OK
    assert root.resource["service.name"] == "mainspring"
    assert all(span.start_ns >= root.start_ns and span.end_ns <= root.end_ns for span in spans)

    step_one, flaky = one(spans, "one", root), one(spans, "flaky", root)
    for step in (step_one, flaky):
        assert step.attributes["mainspring.run.id"] == run_id
        assert step.attributes["mainspring.step.status"] == "completed"
        assert step.attributes["mainspring.step.id"]
        assert step.status_code == OK
    assert (
        step_one.attributes["mainspring.step.attempt"],
        flaky.attributes["mainspring.step.attempt"],
    ) == (0, 1)
    first, second = one(spans, "attempt 0", flaky), one(spans, "attempt 1", flaky)
    assert (first.attributes["mainspring.step.attempt"], first.status_code) == (0, ERROR)
    assert "flaky once" in first.status_message
    assert first.events == ["exception"]
    assert (second.attributes["mainspring.step.attempt"], second.status_code) == (1, OK)
    assert second.attributes["mainspring.step.id"] == flaky.attributes["mainspring.step.id"]
    assert not [span for span in spans if span.parent_span_id == step_one.span_id]  # 1 attempt
    assert "finalization" not in {span.name for span in spans}  # a clean finish: the root's end

    invoke = one(spans, "call-child", root)
    assert invoke.attributes["mainspring.step.op"] == "InvokeFunction"
    child_run = str(invoke.attributes["mainspring.invoke.run_id"])
    child_spans = wait_for_spans(stack, received, child_run, {"double"})
    (child_root,) = [span for span in child_spans if not span.parent_span_id]
    assert invoke.links == [(trace_of(child_run), child_root.span_id)]
    assert child_root.links == [(trace_of(run_id), invoke.span_id)]
    assert child_root.attributes["mainspring.invoke.parent_run_id"] == run_id
    assert child_root.attributes["mainspring.function.id"] == "otel-child"


def test_a_failed_run_is_an_error_span(http_stack: tuple[Stack, Received]) -> None:
    stack, received = http_stack
    run = stack.api.trigger_and_wait("otel/fail", {}, statuses="Failed")
    spans = wait_for_spans(stack, received, str(run["run_id"]), {"fails", "finalization"})
    (root,) = [span for span in spans if not span.parent_span_id]
    assert root.name == "fails"
    assert root.status_code == ERROR
    assert "doomed on purpose" in root.status_message
    assert root.attributes["mainspring.run.status"] == "Failed"
    finalization = one(spans, "finalization", root)
    assert finalization.status_code == ERROR


def test_metrics_go_out_with_otel_metrics(http_stack: tuple[Stack, Received]) -> None:
    _, received = http_stack
    wanted = {"mainspring_queue_depth", "mainspring_runs", "mainspring_step_duration_seconds"}

    def probe() -> bool | None:
        with received.lock:
            return True if wanted <= received.metric_names else None

    wait_until(probe, timeout=20, what=f"metrics {sorted(wanted)}")


def test_grpc_export(http_stack: tuple[Stack, Received]) -> None:
    """The gRPC exporter we build, to a gRPC receiver, with spans the HTTP export also sent
    (cheap: no second server; the protocol's selection from the environment is unit-tested)."""
    stack, http_received = http_stack
    run = stack.api.trigger_and_wait("otel/fail", {}, statuses="Failed")
    run_id = str(run["run_id"])
    sent = wait_for_spans(stack, http_received, run_id, {"fails", "finalization"})
    with grpc_receiver() as (url, received):
        exporter = pipeline.span_exporter("grpc", url)
        facts = RunFacts(
            run={
                "id": run_id,
                "function_slug": "otel-fails",
                "event_id": "E",
                "status": "Failed",
                "output": {"message": "doomed"},
                "created_at": 1,
                "started_at": 2,
                "ended_at": 3,
            },
            function_name="fails",
            event_name=None,
            history=[],
            steps=[],
            userland=[],
        )
        origin = Origin(Resource.create({"service.name": "mainspring"}), InstrumentationScope("m"))
        assert exporter.export(run_spans.build(facts, origin)) is SpanExportResult.SUCCESS
        exporter.shutdown()
        spans = received.of_trace(trace_of(run_id))
    (root,) = [span for span in spans if not span.parent_span_id]
    (http_root,) = [span for span in sent if not span.parent_span_id]
    assert (root.span_id, root.status_code, root.name) == (http_root.span_id, ERROR, "fails")
