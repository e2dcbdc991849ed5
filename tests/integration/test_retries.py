"""Retries, exhausted retries, NonRetriableError and RetryAfterError (server backoff base 0.2 s)."""

from __future__ import annotations

import pytest

from .harness import JSONDict, Stack

BASE = 0.2  # --backoff-base used by the harness
JITTER = 0.25  # backoff = base * 2**(n-1) * (1 + U[0, 0.25])
SLACK = 0.3  # scheduling / HTTP latency allowed on top of the computed backoff


def bodies(stack: Stack, run_id: str, step: str, kind: str = "START") -> list[JSONDict]:
    return stack.sidefx.select(kind=kind, run_id=run_id, step=step)


@pytest.mark.slow
def test_step_retries_then_succeeds(core: Stack) -> None:
    run = core.api.trigger_and_wait("core/flaky")
    run_id = str(run["run_id"])

    assert run["output"] == {"succeeded_on": 2, "next_attempt": 0}

    attempts = bodies(core, run_id, "wobbly")
    assert [e["attempt"] for e in attempts] == [0, 1, 2]
    assert [e["ok"] for e in bodies(core, run_id, "wobbly", "END")] == [False, False, True]

    gap1 = attempts[1]["mono"] - attempts[0]["mono"]
    gap2 = attempts[2]["mono"] - attempts[1]["mono"]
    assert BASE <= gap1 <= BASE * (1 + JITTER) + SLACK, f"first retry gap {gap1:.3f}s"
    assert 2 * BASE <= gap2 <= 2 * BASE * (1 + JITTER) + SLACK, f"second retry gap {gap2:.3f}s"

    # Attempts are counted per step: the next step starts again at attempt 0.
    assert [e["attempt"] for e in bodies(core, run_id, "steady")] == [0]

    steps = core.api.run_steps(run_id)
    assert [(s["name"], s["op"], s["attempts"]) for s in steps] == [
        ("wobbly", "StepRun", 3),
        ("steady", "StepRun", 1),
    ]


def test_retries_exhausted_fails_run(core: Stack) -> None:
    run = core.api.trigger_and_wait("core/exhausted", statuses="Failed")
    run_id = str(run["run_id"])

    output = run["output"]
    assert isinstance(output, dict), output
    assert output["code"] == "step_errored"
    assert "doomed step always fails" in output["message"]

    # retries=1 → exactly two attempts of the step body.
    assert [e["attempt"] for e in bodies(core, run_id, "doomed")] == [0, 1]

    steps = core.api.run_steps(run_id)
    assert len(steps) == 1
    assert steps[0]["name"] == "doomed"
    assert steps[0]["op"] == "StepFailed"
    assert steps[0]["attempts"] == 2
    assert "doomed step always fails" in str(steps[0]["error"])


def test_non_retriable_error_fails_immediately(core: Stack) -> None:
    run = core.api.trigger_and_wait("core/fatal", statuses="Failed")
    run_id = str(run["run_id"])

    output = run["output"]
    assert isinstance(output, dict), output
    assert output["code"] == "non_retriable_error"
    assert output["message"] == "fatal: do not retry"
    assert [e["attempt"] for e in bodies(core, run_id, "give-up")] == [0]


@pytest.mark.slow
def test_retry_after_overrides_backoff(core: Stack) -> None:
    run = core.api.trigger_and_wait("core/retry-after")
    run_id = str(run["run_id"])

    assert run["output"] == "done on attempt 1"
    calls = core.sidefx.select(kind="CALL", run_id=run_id)
    assert [c["attempt"] for c in calls] == [0, 1]
    gap = calls[1]["mono"] - calls[0]["mono"]
    # RetryAfterError("x", 1000): retried 1-2 s later, not after the 0.2 s base backoff.
    assert 0.95 <= gap <= 2.0, f"retry after RetryAfterError(1000 ms) came {gap:.3f}s later"
