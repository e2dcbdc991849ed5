"""Pure logic of the dashboard: step timeline, percentiles, SDK names (explicit instants)."""

from __future__ import annotations

from typing import Any

import pytest

from mainspring.dashboard import environment
from mainspring.dashboard.views import human_ms, sdk_parts
from mainspring.reads import trace as timeline


def h(at: int, kind: str, step: str | None = None, attempt: int | None = None, data: Any = None):
    return {
        "at": at,
        "kind": kind,
        "step_id": step,
        "step_name": step,
        "attempt": attempt,
        "data": data,
    }


def memo(step: str, output: Any = None, error: Any = None, at: int = 0) -> dict[str, Any]:
    return {
        "id": step,
        "name": step,
        "op": "StepRun",
        "output": output,
        "error": error,
        "attempts": 1,
        "completed_at": at,
    }


RUN_DONE = {"status": "Completed"}


def test_sequential_steps_start_where_the_previous_entry_ended() -> None:
    history = [
        h(1000, "run.scheduled"),
        h(1010, "run.started"),
        h(1100, "step.completed", "a"),
        h(1300, "step.completed", "b"),
        h(1310, "run.completed"),
    ]
    line = timeline.build(RUN_DONE, history, [memo("a", 1), memo("b", 2)], now=9999)
    assert [(s.name, s.start, s.end, s.status) for s in line.steps] == [
        ("a", 1010, 1100, "completed"),
        ("b", 1100, 1300, "completed"),
    ]
    assert [s.output for s in line.steps] == [1, 2]
    assert (line.start, line.end) == (1000, 1310)
    assert line.steps[0].left_pct == pytest.approx(100 * 10 / 310, abs=0.01)
    assert line.steps[1].width_pct == pytest.approx(100 * 200 / 310, abs=0.01)


def test_retries_are_attempts_with_their_errors_and_the_last_failure() -> None:
    boom = {"name": "ValueError", "message": "boom"}
    history = [
        h(0, "run.started"),
        h(10, "step.error", "s", 0, boom),
        h(30, "step.error", "s", 1, boom),
        h(70, "step.failed", "s", 2, boom),
        h(80, "run.failed"),
    ]
    line = timeline.build({"status": "Failed"}, history, [memo("s", error=boom)], now=100)
    (step,) = line.steps
    assert step.status == "failed"
    assert [(a.number, a.at) for a in step.attempts] == [(1, 10), (2, 30), (3, 70)]
    assert step.error == boom


def test_parallel_steps_overlap_and_sleeps_and_waits_keep_their_detail() -> None:
    history = [
        h(0, "run.started"),
        h(10, "step.planned", "p1"),
        h(10, "step.planned", "p2"),
        h(20, "step.completed", "p1"),
        h(40, "step.completed", "p2"),
        h(50, "step.sleep", "nap", data={"until": 5000}),
        h(60, "step.waiting", "w", data={"event": "x/y", "if": "true", "until": 9000}),
    ]
    line = timeline.build({"status": "Running"}, history, [], now=100)
    by_name = {s.name: s for s in line.steps}
    assert by_name["p1"].start == by_name["p2"].start == 10
    assert (by_name["nap"].status, by_name["nap"].detail["until"]) == ("sleeping", 5000)
    assert (by_name["w"].kind, by_name["w"].detail["event"]) == ("wait", "x/y")
    assert line.end == 100  # a running run's axis reaches now
    assert by_name["w"].end is None and by_name["w"].width_pct == pytest.approx(40.0)


def test_a_call_error_outside_any_step_is_a_run_error() -> None:
    history = [h(0, "run.started"), h(5, "call.error", attempt=0, data={"message": "503"})]
    line = timeline.build({"status": "Running"}, history, [], now=10)
    assert [(a.number, a.error) for a in line.run_errors] == [(1, {"message": "503"})]


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, "—"), (5, "5 ms"), (1500, "1.50 s"), (61_000, "1 m 1 s"), (3_720_000, "1 h 2 m")],
)
def test_human_durations(ms: int | None, text: str) -> None:
    assert human_ms(ms) == text


def test_sdk_parts() -> None:
    assert sdk_parts("py:v0.5.19") == {"sdk_language": "python", "sdk_version": "0.5.19"}
    assert sdk_parts("js:v4.1.0") == {"sdk_language": "typescript", "sdk_version": "4.1.0"}
    assert sdk_parts(None) == {"sdk_language": None, "sdk_version": None}


@pytest.mark.parametrize(
    ("target", "back"),
    [
        ("/runs", "/runs"),
        ("/runs?status=Failed&function_id=a", "/runs?status=Failed&function_id=a"),
        ("/runs?env=staging&status=Failed", "/runs?status=Failed"),  # the cookie must decide
        ("/runs/01JRUN", "/runs"),  # a run of one environment is not in another
        ("/functions/core-chain?window=day", "/functions"),
        ("/audit/", "/audit"),
        ("/", "/runs"),
        ("", "/runs"),
        (None, "/runs"),
        ("/ui/runs/rows", "/runs"),
        ("/environment?env=x", "/runs"),
        ("//evil.example/runs", "/runs"),
        ("https://evil.example/runs", "/runs"),
        ("/\\evil.example", "/runs"),
        ("runs", "/runs"),
    ],
)
def test_environment_switch_goes_back_to_the_same_section(target: str | None, back: str) -> None:
    assert environment.back_to(target) == back
