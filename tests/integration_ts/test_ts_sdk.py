"""The official TypeScript SDK (npm `inngest` 4.24.0) against a real Mainspring server.

Every test runs twice (fixture `ts`, see conftest.py): with the SDK's default async checkpointing
(the server sends `ctx.fn_id`/`ctx.qi_id`; the SDK runs several steps per call and POSTs them to
`/v1/checkpoint/{run_id}/async`) and with `checkpointing: false` (one step per call). The key
property in both modes: every step body runs exactly once per attempt.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from integration.harness import JSONDict, assert_stays, wait_until

from .ts_harness import CRON_EXPR, FUNCTION_IDS, TsStack

BACKOFF_BASE = 0.2  # --backoff-base of the server (conftest)


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def records(
    ts: TsStack, run_id: str, kind: str = "START", step: str | None = None
) -> list[JSONDict]:
    match: dict[str, Any] = {"kind": kind, "run_id": run_id}
    if step is not None:
        match["step"] = step
    return ts.sidefx.select(**match)


def step_names(ts: TsStack, run_id: str, kind: str = "START") -> list[str]:
    return [str(e["step"]) for e in records(ts, run_id, kind)]


def run_id_of(run: JSONDict) -> str:
    return str(run["run_id"])


def trigger(ts: TsStack, name: str, data: JSONDict | None = None) -> str:
    """Send one event and return the id of the single run it started."""
    event_id = ts.api.send_event(name, data or {})
    return run_id_of(ts.api.run_for_event(event_id))


def history_kinds(ts: TsStack, run_id: str) -> list[str]:
    entries = ts.api.data(f"/v1/runs/{run_id}/history")
    return [str(h["kind"]) for h in entries]


def wait_for_history(ts: TsStack, run_id: str, kind: str, *, timeout: float = 10.0) -> None:
    wait_until(
        lambda: True if kind in history_kinds(ts, run_id) else None,
        timeout=timeout,
        what=f"history entry {kind!r} for run {run_id}",
        on_timeout=ts.logs,
    )


def wait_status(ts: TsStack, run_id: str, status: str, *, timeout: float = 20.0) -> JSONDict:
    try:
        return ts.api.wait_for_run_status(run_id, status, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{ts.logs()}") from None


# ---------------------------------------------------------------------------------------------
# Sync
# ---------------------------------------------------------------------------------------------


def test_sync_registers_every_function_including_cron(ts: TsStack) -> None:
    def synced() -> JSONDict | None:
        info = ts.api.dev_info()
        mine = [h for h in info["handlers"] if h.get("app_id") == ts.app_id]
        # The SDK registers during our PUT; the PUT's answer (synced_at) lands just after.
        return info if mine and mine[0]["synced_at"] is not None else None

    info = wait_until(synced, timeout=10, what="the sync's answer recorded", on_timeout=ts.logs)
    slugs = {str(fn["slug"]) for fn in info["functions"]}
    assert {ts.slug(fn) for fn in FUNCTION_IDS} <= slugs

    handlers = [h for h in info["handlers"] if h.get("app_id") == ts.app_id]
    assert len(handlers) == 1, info["handlers"]
    assert handlers[0]["error"] is None
    assert handlers[0]["synced_at"] is not None

    by_slug = {str(fn["slug"]): fn for fn in info["functions"]}
    assert [t.get("cron") for t in by_slug[ts.slug("cron-tick")]["triggers"]] == [CRON_EXPR]
    assert [t.get("event") for t in by_slug[ts.slug("chain")]["triggers"]] == ["ts/chain"]
    failure_triggers = by_slug[ts.slug("fails-failure")]["triggers"]
    assert [t.get("event") for t in failure_triggers] == ["inngest/function.failed"]


# ---------------------------------------------------------------------------------------------
# Steps: chain, sleep, parallel
# ---------------------------------------------------------------------------------------------


def test_three_step_chain_runs_each_body_once(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/chain", {"n": 1})
    run = wait_status(ts, run_id, "Completed")

    assert run["output"] == {"total": 25}
    assert run["function_id"] == ts.slug("chain")
    assert run["ended_at"] is not None

    assert step_names(ts, run_id, "START") == ["one", "two", "three"]
    ends = records(ts, run_id, "END")
    assert [(e["step"], e["ok"], e["attempt"]) for e in ends] == [
        ("one", True, 0),
        ("two", True, 0),
        ("three", True, 0),
    ]

    steps = ts.api.run_steps(run_id)
    assert [s["name"] for s in steps] == ["one", "two", "three"]
    assert [s["id"] for s in steps] == [sha1("one"), sha1("two"), sha1("three")]
    assert [s["op"] for s in steps] == ["StepRun"] * 3
    assert [s["output"] for s in steps] == [2, 20, {"total": 25}]
    assert [s["error"] for s in steps] == [None] * 3


def test_checkpointing_mode_decides_calls_per_run(ts: TsStack) -> None:
    """With checkpointing the SDK runs the whole chain in ONE call (each step checkpointed to
    /v1/checkpoint/{run_id}/async, then a 206 RunComplete); without it, one call per step plus
    the final call. More calls in checkpointing mode mean the server did not send ctx.fn_id /
    ctx.qi_id or a checkpoint POST failed (the SDK then falls back to a 206 after ~1.8 s)."""
    run_id = trigger(ts, "ts/chain", {"n": 2})
    run = wait_status(ts, run_id, "Completed")
    assert run["output"] == {"total": 35}

    calls = ts.sidefx.select(kind="CALL", fn="chain", run_id=run_id)
    expected = 1 if ts.checkpointing else 4
    assert len(calls) == expected, (
        f"{len(calls)} SDK calls for a 3-step chain, expected {expected} "
        f"(checkpointing={ts.checkpointing})\n{ts.logs()}"
    )
    assert step_names(ts, run_id) == ["one", "two", "three"]


def test_sleep_delays_next_step(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/sleep")
    run = wait_status(ts, run_id, "Completed", timeout=30)
    assert run["output"] == "after"

    assert step_names(ts, run_id, "START") == ["before", "after"]
    before_end = records(ts, run_id, "END", "before")[0]["mono"]
    after_start = records(ts, run_id, "START", "after")[0]["mono"]
    gap = after_start - before_end
    assert 2.0 <= gap <= 4.0, f"step after a 2 s sleep started {gap:.3f}s after the previous one"

    steps = ts.api.run_steps(run_id)
    assert [(s["name"], s["op"]) for s in steps] == [
        ("before", "StepRun"),
        ("nap", "Sleep"),
        ("after", "StepRun"),
    ]
    assert steps[1]["output"] is None


def test_parallel_steps_with_promise_all(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/parallel")
    run = wait_status(ts, run_id, "Completed")
    assert run["output"] == {"parallel": [1, 2, 3], "after": 6}

    assert Counter(step_names(ts, run_id)) == {"p1": 1, "p2": 1, "p3": 1, "after": 1}
    leg_ends = [e["mono"] for e in records(ts, run_id, "END") if e["step"] in {"p1", "p2", "p3"}]
    after_start = records(ts, run_id, "START", "after")[0]["mono"]
    assert len(leg_ends) == 3
    assert after_start > max(leg_ends), "the step after Promise.all started before every leg ended"

    steps = ts.api.run_steps(run_id)
    outputs = {s["name"]: s["output"] for s in steps}
    assert outputs == {"p1": 1, "p2": 2, "p3": 3, "after": 6}
    assert [s["name"] for s in steps][-1] == "after"


# ---------------------------------------------------------------------------------------------
# Retries and failures
# ---------------------------------------------------------------------------------------------


def test_step_retries_then_succeeds(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/flaky")
    run = wait_status(ts, run_id, "Completed")
    assert run["output"] == {"succeeded_on": 2, "next_attempt": 0}

    wobbly = records(ts, run_id, "START", "wobbly")
    assert [e["attempt"] for e in wobbly] == [0, 1, 2]
    assert [e["ok"] for e in records(ts, run_id, "END", "wobbly")] == [False, False, True]
    gaps = [b["mono"] - a["mono"] for a, b in itertools.pairwise(wobbly)]
    assert gaps[0] >= BACKOFF_BASE and gaps[1] >= 2 * BACKOFF_BASE, f"retry gaps {gaps}"
    # The step before the flaky one ran once; the retried calls replayed its memo.
    assert [e["attempt"] for e in records(ts, run_id, "START", "warmup")] == [0]
    # Attempts are counted per step: the next step starts again at attempt 0, once.
    assert [e["attempt"] for e in records(ts, run_id, "START", "steady")] == [0]

    steps = ts.api.run_steps(run_id)
    assert [(s["name"], s["op"], s["attempts"]) for s in steps] == [
        ("warmup", "StepRun", 1),
        ("wobbly", "StepRun", 3),
        ("steady", "StepRun", 1),
    ]
    assert [s["output"] for s in steps] == ["warm", 2, 0]


def test_non_retriable_error_fails_after_one_attempt(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/fatal")
    run = wait_status(ts, run_id, "Failed")

    output = run["output"]
    assert isinstance(output, dict), output
    assert "fatal: do not retry" in str(output.get("message")), output
    assert [e["attempt"] for e in records(ts, run_id, "START", "give-up")] == [0]

    steps = ts.api.run_steps(run_id)
    assert [(s["name"], s["op"], s["attempts"]) for s in steps] == [("give-up", "StepFailed", 1)]
    assert "fatal: do not retry" in str(steps[0]["error"])

    # retries: 3 is configured, but nothing is retried (well past the backoff of a retry).
    assert_stays(
        lambda: len(records(ts, run_id, "START")) == 1,
        duration=3 * BACKOFF_BASE * 1.25 + 0.3,
        what="a single attempt of the NonRetriableError step",
    )


def test_function_error_after_a_step_retries_without_rerunning_it(ts: TsStack) -> None:
    """Checkpointing: step `a` is checkpointed, then the function throws in the same call. The
    retry (attempt 1) must receive `a` as a memo; running `a` again would be a duplicate."""
    run_id = trigger(ts, "ts/recovers")
    run = wait_status(ts, run_id, "Completed")
    assert run["output"] == {"a": "a-done", "attempt": 1}
    assert [(e["step"], e["attempt"]) for e in records(ts, run_id)] == [("a", 0)]
    calls = ts.sidefx.select(kind="CALL", fn="recovers", run_id=run_id)
    assert [c["attempt"] for c in calls][-2:] == [0, 1]
    steps = ts.api.run_steps(run_id)
    assert [(s["name"], s["op"], s["output"]) for s in steps] == [("a", "StepRun", "a-done")]


def test_function_returning_nothing_completes_with_null(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/void")
    run = wait_status(ts, run_id, "Completed")
    assert run["output"] is None
    assert step_names(ts, run_id) == ["only"]
    assert [s["output"] for s in ts.api.run_steps(run_id)] == [None]


def test_send_event_step_fans_out_exactly_once(ts: TsStack) -> None:
    batch = f"b-{uuid.uuid4().hex[:8]}"
    run_id = trigger(ts, "ts/fanout", {"batch": batch})
    run = wait_status(ts, run_id, "Completed")
    ids = run["output"]["ids"]
    assert isinstance(ids, list) and len(ids) == 3 and len(set(ids)) == 3, run["output"]

    children = [e for e in ts.api.list_events("ts/fanout.child") if e["data"]["batch"] == batch]
    assert sorted(e["data"]["i"] for e in children) == [0, 1, 2], "each child event sent once"

    def child_runs() -> list[JSONDict] | None:
        runs = [
            r
            for r in ts.api.list_runs(ts.slug("fanout-child"))
            if r["status"] == "Completed" and r["output"]["batch"] == batch
        ]
        return runs if len(runs) >= 3 else None

    runs = wait_until(child_runs, timeout=20, what="3 fan-out child runs", on_timeout=ts.logs)
    assert sorted(r["output"]["doubled"] for r in runs) == [0, 2, 4]
    work = [e for e in ts.sidefx.select(kind="START", step="work") if e["batch"] == batch]
    assert sorted(e["i"] for e in work) == [0, 1, 2]
    fan = [s for s in ts.api.run_steps(run_id) if s["name"] == "fan"]
    assert len(fan) == 1, ts.api.run_steps(run_id)


def test_on_failure_handler_runs_once(ts: TsStack) -> None:
    api = ts.api
    event_id = api.send_event("ts/fails", {"why": "testing onFailure"})
    run_id = run_id_of(api.run_for_event(event_id))
    failed = wait_status(ts, run_id, "Failed")
    assert failed["output"]["message"] == "kaboom"
    calls = ts.sidefx.select(kind="CALL", fn="fails", run_id=run_id)
    assert calls and {c["attempt"] for c in calls} == {0}, "retries: 0 means one attempt per call"
    assert step_names(ts, run_id) == ["ok-step"], "the step before the throw ran exactly once"

    failure_slug = ts.slug("fails-failure")

    def failure_runs() -> list[JSONDict] | None:
        runs = api.list_runs(failure_slug)
        return runs if runs and all(r["status"] == "Completed" for r in runs) else None

    runs = wait_until(
        failure_runs, timeout=20, what=f"the {failure_slug} run to complete", on_timeout=ts.logs
    )
    assert len(runs) == 1
    assert runs[0]["run_id"] != run_id

    notes = ts.sidefx.select(kind="ON_FAILURE")
    assert len(notes) == 1, notes
    note = notes[0]
    assert note["run_id"] == runs[0]["run_id"]
    assert note["event_name"] == "inngest/function.failed"
    assert note["error_message"] == "kaboom"
    data = note["data"]
    assert data["function_id"] == ts.slug("fails")
    assert data["run_id"] == run_id
    assert data["event"]["name"] == "ts/fails"
    assert data["event"]["data"] == {"why": "testing onFailure"}

    assert_stays(
        lambda: (
            len(ts.sidefx.select(kind="ON_FAILURE")) == 1 and len(api.list_runs(failure_slug)) == 1
        ),
        duration=1.0,
        what="a single onFailure run",
    )


# ---------------------------------------------------------------------------------------------
# waitForEvent, invoke, cancellation
# ---------------------------------------------------------------------------------------------


def test_wait_for_event_resumes_with_matching_event(ts: TsStack) -> None:
    order = f"o-{uuid.uuid4().hex[:8]}"
    run_id = trigger(ts, "ts/wait", {"order": order, "timeout": "20s"})
    wait_for_history(ts, run_id, "step.waiting")

    # An event with the right name but a different order does not match the `if`.
    ts.api.send_event("ts/wait.reply", {"order": "someone-else", "answer": -1})
    assert_stays(
        lambda: (ts.api.get_run(run_id) or {}).get("status") == "Running",
        duration=0.5,
        what="the run to keep waiting after a non-matching event",
    )
    ts.api.send_event("ts/wait.reply", {"order": order, "answer": 42})

    run = wait_status(ts, run_id, "Completed")
    assert run["output"] == {"order": order, "reply": {"order": order, "answer": 42}, "after": 42}
    assert step_names(ts, run_id) == ["before", "after"]
    assert "step.resumed" in history_kinds(ts, run_id)
    ts.api.assert_no_zombies()


def test_wait_for_event_times_out_with_null(ts: TsStack) -> None:
    order = f"o-{uuid.uuid4().hex[:8]}"
    run_id = trigger(ts, "ts/wait", {"order": order, "timeout": "2s"})
    wait_for_history(ts, run_id, "step.waiting")
    ts.api.send_event("ts/wait.reply", {"order": f"not-{order}", "answer": -1})

    run = wait_status(ts, run_id, "Completed", timeout=20)
    assert run["output"] == {"order": order, "reply": None, "after": None}
    assert step_names(ts, run_id) == ["before", "after"]

    before_end = records(ts, run_id, "END", "before")[0]["mono"]
    after_start = records(ts, run_id, "START", "after")[0]["mono"]
    gap = after_start - before_end
    assert 2.0 <= gap <= 5.0, f"the step after a 2 s wait timeout ran {gap:.3f}s later"
    assert "step.timed_out" in history_kinds(ts, run_id)


def test_invoke_returns_child_output(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/invoke", {"x": 21})
    run = wait_status(ts, run_id, "Completed", timeout=30)
    assert run["output"] == {
        "child": {"doubled": 42, "invoked_by": "inngest/function.invoked"},
        "after": 43,
    }
    assert step_names(ts, run_id) == ["prep", "after"]
    assert "step.invoking" in history_kinds(ts, run_id)

    children = ts.api.list_runs(ts.slug("child"))
    assert len(children) == 1, children
    child = children[0]
    assert child["status"] == "Completed"
    assert child["output"] == {"doubled": 42, "invoked_by": "inngest/function.invoked"}
    assert step_names(ts, str(child["run_id"])) == ["double"]

    invoked = [
        e for e in ts.api.list_events("inngest/function.invoked") if e["data"].get("x") == 21
    ]
    assert len(invoked) == 1, invoked


def test_invoke_of_missing_function_fails_the_step_and_ends_the_run(ts: TsStack) -> None:
    # The official SDK's example suite, `step-invoke-not-found`: once stuck Running for ever.
    run_id = trigger(ts, "ts/invoke.not-found")
    run = wait_status(ts, run_id, "Failed", timeout=15)
    assert "could not find function" in str(run["output"]), run
    (step,) = [s for s in ts.api.run_steps(run_id) if s["name"] == "invoke-non-existent-fn"]
    assert step["error"]["name"] == "Error", step
    assert "could not find function" in step["error"]["message"], step
    assert "step.resumed" in history_kinds(ts, run_id)
    ts.api.assert_no_zombies()


def test_cancel_on_event_stops_the_run(ts: TsStack) -> None:
    key = f"c-{uuid.uuid4().hex[:8]}"
    run_id = trigger(ts, "ts/cancellable", {"id": key, "sleep": "3s"})
    ts.sidefx.wait_for(
        lambda es: any(
            e["kind"] == "END" and e["run_id"] == run_id and e["step"] == "before" for e in es
        ),
        timeout=10,
        what="the step before the sleep to finish",
    )

    # A cancel event whose `if` does not match leaves the run alone.
    ts.api.send_event("ts/cancel", {"id": f"not-{key}"})
    assert_stays(
        lambda: (ts.api.get_run(run_id) or {}).get("status") == "Running",
        duration=0.5,
        what="the run to survive a non-matching cancel event",
    )

    ts.api.send_event("ts/cancel", {"id": key})
    cancel_sent = time.monotonic()
    run = wait_status(ts, run_id, "Cancelled", timeout=10)
    assert run["ended_at"] is not None

    # No step body starts after the cancel, not even once the 3 s sleep would have ended.
    assert_stays(
        lambda: all(e["mono"] < cancel_sent for e in ts.sidefx.select(run_id=run_id)),
        duration=3.5,
        what="no step body after the cancel event",
    )
    assert step_names(ts, run_id) == ["before"]
    assert (ts.api.get_run(run_id) or {}).get("status") == "Cancelled"
    assert "run.cancelled" in history_kinds(ts, run_id)

    cancelled = [
        e
        for e in ts.api.list_events("inngest/function.cancelled")
        if e["data"].get("run_id") == run_id
    ]
    assert len(cancelled) == 1, cancelled
    # Cancelled runs do not trigger onFailure handlers (none declared here) nor count as failed.
    assert not [
        e
        for e in ts.api.list_events("inngest/function.failed")
        if e["data"].get("run_id") == run_id
    ]


# ---------------------------------------------------------------------------------------------
# Cron (runs last: it may wait for the next minute slot)
# ---------------------------------------------------------------------------------------------

CRON_MAX_WAIT = 15.0  # wait for the next minute slot only if it is at most this far away


def test_cron_registration_and_ticks(ts: TsStack) -> None:
    """The SDK passes any cron string through (`{cron: string}`), but a seconds field is not
    standard cron, so the app uses `* * * * *`. A tick is therefore observed only when a minute
    boundary falls inside this stack's lifetime (or within CRON_MAX_WAIT s of now); otherwise
    only the registration and the absence of early or duplicate runs are checked."""
    slug = ts.slug("cron-tick")
    first_slot = math.floor(ts.synced_at / 60 + 1) * 60  # first minute boundary after the sync
    now = time.time()
    if first_slot - now <= CRON_MAX_WAIT:
        runs = wait_until(
            lambda: [r for r in ts.api.list_runs(slug) if r["status"] == "Completed"] or None,
            timeout=max(first_slot - now, 0) + 10,
            what=f"a {slug} run for the minute slot at {first_slot}",
            on_timeout=ts.logs,
        )
        for run in runs:
            assert run["output"] == {"event_name": "inngest/scheduled.timer", "cron": CRON_EXPR}
            assert step_names(ts, str(run["run_id"])) == ["tick"]

    # Whatever fired: one run per minute slot, each from a scheduled.timer event on a slot.
    runs = ts.api.list_runs(slug)
    timers = [
        e
        for e in ts.api.list_events("inngest/scheduled.timer")
        if str(e["id"]).startswith(f"{slug}:")
    ]
    assert {r["event_id"] for r in runs} <= {t["internal_id"] for t in timers}, (runs, timers)
    assert len({str(t["id"]) for t in timers}) == len(timers), f"a slot fired twice: {timers}"
    for timer in timers:
        assert timer["data"]["cron"] == CRON_EXPR
        slot = datetime.fromisoformat(str(timer["data"]["scheduledAt"]).replace("Z", "+00:00"))
        assert (slot.second, slot.microsecond) == (0, 0), f"slot {slot} is not a minute boundary"
        assert len(ts.api.runs_for_event(str(timer["internal_id"]))) == 1, timer
    if time.time() < first_slot:
        assert runs == [], f"cron fired before its first slot: {runs}"


# ---------------------------------------------------------------------------------------------
# The whole module: no step body ran twice
# ---------------------------------------------------------------------------------------------


def test_no_step_body_ran_twice_in_any_run(ts: TsStack) -> None:
    """Across every run of this stack, each (run, step, attempt) START appears once, and each
    (run, step) succeeded at most once: checkpointed steps are never re-executed."""
    entries = ts.sidefx.read()
    starts = Counter(
        (e["run_id"], e["step"], e["attempt"]) for e in entries if e["kind"] == "START"
    )
    dup_starts = {k: n for k, n in starts.items() if n > 1}
    assert not dup_starts, f"step bodies started more than once: {dup_starts}"
    successes = Counter((e["run_id"], e["step"]) for e in entries if e["kind"] == "END" and e["ok"])
    dup_ok = {k: n for k, n in successes.items() if n > 1}
    assert not dup_ok, f"step bodies succeeded more than once: {dup_ok}"
    ts.api.assert_no_zombies()  # the suite left no Running run with nothing queued
