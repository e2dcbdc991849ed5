"""Signals through the official TypeScript SDK (4.24.0): `step.waitForSignal` resumed by
`POST /v1/signals` or by another function's `step.sendSignal`, timeouts, `onConflict`, and the
route's answers. Each test runs in both checkpointing modes (fixture `ts`, see conftest.py).

The Python SDK 0.5.19 has no signals (no `wait_for_signal` or `send_signal`), so this is the only
SDK suite for them.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from .test_ts_dev_api import brief, by_name, timeline
from .test_ts_sdk import history_kinds, records, step_names, trigger, wait_for_history, wait_status
from .ts_harness import TsStack

WAITING = "step.waiting_signal"


def new_signal(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:10]}"


def send_signal(ts: TsStack, signal: Any, data: Any = None) -> httpx.Response:
    return ts.api.http.post("/v1/signals", json={"signal": signal, "data": data})


def wait_on(ts: TsStack, signal: str, **opts: Any) -> str:
    """Start a `signal-waiter` run and return its id once its wait is recorded."""
    run_id = trigger(ts, "ts/signal.wait", {"signal": signal, **opts})
    wait_for_history(ts, run_id, WAITING)
    return run_id


def status_of(ts: TsStack, run_id: str) -> str | None:
    run = ts.api.get_run(run_id) or {}
    status = run.get("status")
    return None if status is None else str(status)


def test_a_posted_signal_resumes_the_waiting_run_with_its_data(ts: TsStack) -> None:
    signal = new_signal("approve")
    run_id = wait_on(ts, signal)

    # While it waits: the trace shows the wait (Inngest's stepType) as WAITING.
    waiting = by_name(timeline(ts, run_id), "wait-signal")
    assert brief(waiting)[:3] == ("wait-signal", "WAIT_FOR_SIGNAL", "WAITING"), waiting
    (entry,) = [h for h in ts.api.data(f"/v1/runs/{run_id}/history") if h["kind"] == WAITING]
    assert entry["data"]["signal"] == signal
    assert entry["data"]["conflict"] == "fail"
    assert entry["data"]["until"] > 0

    answer = send_signal(ts, signal, {"approved": True, "by": "ops"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {"run_id": run_id}

    run = wait_status(ts, run_id, "Completed")
    got = {"signal": signal, "data": {"approved": True, "by": "ops"}}
    assert run["output"] == {"signal": signal, "got": got, "after": got["data"]}
    assert step_names(ts, run_id) == ["before", "after"]
    steps = {s["name"]: s for s in ts.api.run_steps(run_id)}
    assert (steps["wait-signal"]["op"], steps["wait-signal"]["output"]) == ("WaitForSignal", got)
    assert "step.resumed" in history_kinds(ts, run_id)
    done = by_name(timeline(ts, run_id), "wait-signal")
    assert brief(done)[:3] == ("wait-signal", "WAIT_FOR_SIGNAL", "COMPLETED"), done

    # The wait is consumed: the same signal again finds nobody.
    assert send_signal(ts, signal, {"again": True}).status_code == 404
    ts.api.assert_no_zombies()


def test_step_send_signal_from_another_function_resumes_the_run(ts: TsStack) -> None:
    signal = new_signal("handoff")
    waiter = wait_on(ts, signal)
    sender = trigger(ts, "ts/signal.send", {"signal": signal, "data": {"from": "sender"}})

    sent = wait_status(ts, sender, "Completed")
    assert sent["output"] == {"sent": {"runId": waiter}}
    run = wait_status(ts, waiter, "Completed")
    assert run["output"]["got"] == {"signal": signal, "data": {"from": "sender"}}
    # The SDK ran the send once (a memoized step), even when the run was replayed after it.
    (step,) = [s for s in ts.api.run_steps(sender) if s["name"] == "send-signal"]
    assert step["output"] == {"runId": waiter}


def test_step_send_signal_with_nobody_waiting_returns_no_run(ts: TsStack) -> None:
    sender = trigger(ts, "ts/signal.send", {"signal": new_signal("nobody"), "data": 1})
    run = wait_status(ts, sender, "Completed")
    assert run["output"] == {"sent": {}}, run  # the SDK's `{runId: undefined}` on a 404


def test_a_wait_that_times_out_resumes_with_null(ts: TsStack) -> None:
    signal = new_signal("late")
    run_id = wait_on(ts, signal, timeout="2s")
    run = wait_status(ts, run_id, "Completed", timeout=20)
    assert run["output"] == {"signal": signal, "got": None, "after": None}
    before_end = records(ts, run_id, "END", "before")[0]["mono"]
    after_start = records(ts, run_id, "START", "after")[0]["mono"]
    assert 2.0 <= after_start - before_end <= 6.0
    assert "step.timed_out" in history_kinds(ts, run_id)
    assert send_signal(ts, signal, "too late").status_code == 404


def test_conflict_fail_fails_the_second_run_and_keeps_the_first_waiting(ts: TsStack) -> None:
    signal = new_signal("single")
    first = wait_on(ts, signal)
    second = trigger(ts, "ts/signal.wait", {"signal": signal, "conflict": "fail"})

    failed = wait_status(ts, second, "Failed")
    message = str(failed["output"])
    assert "Signal conflict" in message and first in message, failed
    (step,) = [s for s in ts.api.run_steps(second) if s["name"] == "wait-signal"]
    assert step["op"] == "WaitForSignal" and "Signal conflict" in step["error"]["message"]
    assert brief(by_name(timeline(ts, second), "wait-signal"))[1:3] == ("WAIT_FOR_SIGNAL", "FAILED")
    assert step_names(ts, second) == ["before"], "nothing after the wait ran"
    assert status_of(ts, first) == "Running"

    answer = send_signal(ts, signal, "for the first")
    assert answer.json()["data"] == {"run_id": first}
    assert wait_status(ts, first, "Completed")["output"]["after"] == "for the first"


def test_conflict_replace_takes_the_name_and_the_older_wait_times_out(ts: TsStack) -> None:
    signal = new_signal("shared")
    older = wait_on(ts, signal, timeout="4s")
    newer = wait_on(ts, signal, conflict="replace")
    assert "step.signal_replaced" in history_kinds(ts, older)

    answer = send_signal(ts, signal, {"n": 1})
    assert answer.json()["data"] == {"run_id": newer}
    assert wait_status(ts, newer, "Completed")["output"]["after"] == {"n": 1}
    # The older wait no longer has the name: a second signal finds nobody, and it times out.
    assert send_signal(ts, signal, {"n": 2}).status_code == 404
    assert status_of(ts, older) == "Running"
    run = wait_status(ts, older, "Completed", timeout=20)
    assert run["output"]["got"] is None
    assert "step.timed_out" in history_kinds(ts, older)


def test_a_signal_nobody_waits_for_answers_404(ts: TsStack) -> None:
    answer = send_signal(ts, new_signal("ghost"), {"x": 1})
    assert answer.status_code == 404
    body = answer.json()
    assert body["status"] == 404 and "no run is waiting" in body["error"]


def test_bad_signal_bodies_answer_400_naming_the_field(ts: TsStack) -> None:
    post = ts.api.http.post
    cases: list[tuple[dict[str, Any], str]] = [
        ({"json": {"data": 1}}, "signal"),
        ({"json": {"signal": ""}}, "signal"),
        ({"json": {"signal": 7}}, "signal"),
        ({"json": ["s"]}, "body"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, "body"),
    ]
    for kwargs, field in cases:
        answer = post("/v1/signals", **kwargs)
        assert answer.status_code == 400, (kwargs, answer.text)
        assert answer.json()["field"] == field, (kwargs, answer.json())


def test_a_waiting_run_is_not_a_zombie(ts: TsStack) -> None:
    signal = new_signal("patient")
    run_id = wait_on(ts, signal)
    assert run_id not in {str(z["run_id"]) for z in ts.api.zombies(grace=0)}
    assert send_signal(ts, signal).status_code == 200
    run = wait_status(ts, run_id, "Completed")
    assert run["output"]["got"] == {"signal": signal, "data": None}


def test_a_cancelled_run_gives_its_signal_up(ts: TsStack) -> None:
    signal = new_signal("cancelled")
    first = wait_on(ts, signal)
    assert ts.api.http.delete(f"/v1/runs/{first}").status_code == 200
    wait_status(ts, first, "Cancelled")
    assert send_signal(ts, signal).status_code == 404
    second = wait_on(ts, signal)  # conflict "fail": the name is free again
    assert send_signal(ts, signal, "second").json()["data"] == {"run_id": second}
    assert wait_status(ts, second, "Completed")["output"]["after"] == "second"
