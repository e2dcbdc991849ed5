"""The run's span tree in Inngest's `trace(preview: true)` shape (reads.trace_tree), from
hand-written histories: the cases the real-SDK tests do not reach cheaply."""

from __future__ import annotations

from typing import Any

from mainspring.reads.trace_tree import Span, tree


def entry(
    at: int,
    kind: str,
    step_id: str | None = None,
    *,
    name: str | None = None,
    attempt: int | None = None,
    data: Any = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "step_id": step_id,
        "step_name": name or step_id,
        "attempt": attempt,
        "data": data,
    }


def memo(
    step_id: str, op: str, at: int, *, output: Any = None, error: Any = None, attempts: int = 1
) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id,
        "op": op,
        "output": output,
        "error": error,
        "attempts": attempts,
        "completed_at": at,
    }


def brief(span: Span) -> tuple[Any, ...]:
    return (span.name, span.step_type, span.status, span.attempts, span.output_id)


def run(status: str) -> dict[str, Any]:
    return {"run_id": "R", "status": status}


def test_function_level_retries_hang_under_the_finalization() -> None:
    boom = {"name": "Error", "message": "boom"}
    history = [
        entry(0, "run.scheduled"),
        entry(10, "step.completed", "a", attempt=0),
        entry(20, "call.error", attempt=0, data=boom),
        entry(30, "call.error", attempt=1, data=boom),
    ]
    root = tree(
        run("Failed"),
        "fn",
        history,
        [memo("a", "StepRun", 10, output=1)],
        started_at=0,
        ended_at=40,
    )

    assert brief(root) == ("fn", "", "FAILED", 0, "R")
    a, final = root.children
    assert brief(a) == ("a", "RUN", "COMPLETED", 0, "R:a") and a.children == []
    assert brief(final) == ("Finalization", "FINALIZATION", "FAILED", 2, "R")
    assert [brief(s) for s in final.children] == [
        ("Attempt 0", "", "FAILED", 0, "R@0"),
        ("Attempt 1", "", "FAILED", 1, "R@1"),
        ("Attempt 2", "", "FAILED", 2, "R"),
    ]
    assert final.ended_at == 40


def test_a_step_retrying_is_running_with_the_next_attempt_number() -> None:
    history = [
        entry(0, "step.planned", "s"),
        entry(5, "step.error", "s", attempt=0, data={"message": "x"}),
    ]
    root = tree(run("Running"), "fn", history, [], started_at=0, ended_at=None)

    [step] = root.children  # no finalization while the run goes on
    assert brief(step) == ("s", "RUN", "RUNNING", 1, None)
    assert [brief(s) for s in step.children] == [
        ("Attempt 0", "RUN", "FAILED", 0, "R:s@0"),
        ("Attempt 1", "RUN", "RUNNING", 1, None),  # the retry, queued or in flight
    ]
    assert (root.status, root.output_id) == ("RUNNING", None)


def test_waits_and_sleeps_are_waiting_and_an_invoke_that_failed_is_failed() -> None:
    history = [
        entry(0, "step.sleep", "nap", data={"until": 99}),
        entry(1, "step.waiting", "w", data={"event": "e", "until": 50}),
        entry(2, "step.resumed", "inv"),
    ]
    steps = [memo("inv", "InvokeFunction", 2, error={"name": "Error", "message": "gone"})]
    root = tree(run("Running"), "fn", history, steps, started_at=0, ended_at=None)

    assert [brief(s) for s in root.children] == [
        ("nap", "SLEEP", "WAITING", 0, None),
        ("w", "WAIT_FOR_EVENT", "WAITING", 0, None),
        ("inv", "INVOKE", "FAILED", 0, "R:inv"),
    ]


def test_a_cancelled_run_has_no_finalization() -> None:
    history = [entry(0, "step.completed", "a")]
    root = tree(
        run("Cancelled"), "fn", history, [memo("a", "StepRun", 0)], started_at=0, ended_at=9
    )

    assert root.status == "CANCELLED" and root.output_id is None
    assert [s.name for s in root.children] == ["a"]


def test_a_server_side_request_is_an_ai_gateway_span_with_its_attempts() -> None:
    request = {"kind": "ai", "method": "POST", "url": "https://m.test/v1", "status": 429}
    history = [
        entry(0, "run.scheduled"),
        entry(10, "step.request", "s", name="infer", attempt=0, data=request),
        entry(12, "step.error", "s", name="infer", attempt=0, data={"message": "429"}),
        entry(20, "step.request", "s", name="infer", attempt=1, data={**request, "status": 200}),
        entry(25, "step.completed", "s", name="infer", attempt=1),
    ]
    steps = [memo("s", "AIGateway", 25, output={"id": "x"}, attempts=2)]
    root = tree(run("Running"), "fn", history, steps, started_at=0, ended_at=None)

    [step] = root.children
    assert brief(step) == ("infer", "AI_GATEWAY", "COMPLETED", 1, "R:s")
    assert (step.started_at, step.ended_at) == (10, 25)
    assert step.detail["status"] == 200  # the last attempt's request
    assert [brief(s) for s in step.children] == [
        ("Attempt 0", "AI_GATEWAY", "FAILED", 0, "R:s@0"),
        ("Attempt 1", "AI_GATEWAY", "COMPLETED", 1, "R:s"),
    ]


def test_a_signal_wait_is_waiting_then_completed_or_failed_on_a_conflict() -> None:
    history = [
        entry(0, "step.waiting_signal", "sig", data={"signal": "s", "until": 50}),
        entry(1, "step.waiting_signal", "done", data={"signal": "t", "until": 50}),
        entry(2, "step.resumed", "done"),
        entry(3, "step.failed", "clash", attempt=0, data={"message": "Signal conflict"}),
    ]
    steps = [
        memo("done", "WaitForSignal", 2, output={"signal": "t", "data": 1}),
        memo("clash", "WaitForSignal", 3, error={"name": "Error", "message": "Signal conflict"}),
    ]
    root = tree(run("Running"), "fn", history, steps, started_at=0, ended_at=None)
    assert [brief(s)[:3] for s in root.children] == [
        ("sig", "WAIT_FOR_SIGNAL", "WAITING"),
        ("done", "WAIT_FOR_SIGNAL", "COMPLETED"),
        ("clash", "WAIT_FOR_SIGNAL", "FAILED"),
    ]
