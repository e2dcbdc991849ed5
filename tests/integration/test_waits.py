"""step.wait_for_event through the official Python SDK: `if` expressions comparing the trigger
with the incoming event, literals, no `if`, events sent before the wait, and timeouts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .harness import (
    JSONDict,
    Stack,
    assert_stays,
    run_history,
    running_stack,
    start_run,
    wait_for_history,
)

SLUGS = ("waits-match", "waits-literal", "waits-any")


@pytest.fixture(scope="module")
def waits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("waits"), "waits_app", SLUGS) as stack:
        yield stack


def new_key() -> str:
    return uuid.uuid4().hex


def resumed(stack: Stack, run_id: str) -> list[JSONDict]:
    return stack.sidefx.select(kind="RESUMED", run_id=run_id)


def still_waiting(stack: Stack, run_id: str) -> bool:
    run = stack.api.get_run(run_id)
    return run is not None and run["status"] == "Running" and not resumed(stack, run_id)


def wait_started(stack: Stack, run_id: str) -> JSONDict:
    """Block until the server has stored the run's pause (history `step.waiting`)."""
    entry = wait_for_history(stack.api, run_id, kind="step.waiting", step_name="w")
    return entry


def test_matching_event_resumes_wait(waits: Stack) -> None:
    api = waits.api
    key = new_key()
    run_id = start_run(api, "waits/start", {"id": key})
    wait_started(waits, run_id)

    api.send_event("waits/reply", {"id": "someone-else", "note": "wrong"})
    assert_stays(
        lambda: still_waiting(waits, run_id),
        duration=1.0,
        what="the run to keep waiting after an event with another id",
    )

    reply = api.send_event("waits/reply", {"id": key, "note": "right"})
    run = api.wait_for_run_status(run_id, "Completed")
    got = run["output"]["event"]
    assert got is not None, run
    assert got["name"] == "waits/reply"
    assert got["data"] == {"id": key, "note": "right"}
    assert got["id"] == api.data(f"/v1/events/{reply}")["id"]
    assert len(resumed(waits, run_id)) == 1

    # The memo is the whole matching event, unwrapped (protocol §4.2).
    (memo,) = [s for s in api.run_steps(run_id) if s["name"] == "w"]
    assert memo["output"]["name"] == "waits/reply"
    assert memo["output"]["data"] == {"id": key, "note": "right"}
    kinds = [h["kind"] for h in run_history(api, run_id)]
    assert "step.resumed" in kinds, kinds
    assert "step.timed_out" not in kinds, kinds


def test_event_sent_before_wait_does_not_match(waits: Stack) -> None:
    api = waits.api
    key = new_key()
    api.send_event("waits/reply", {"id": key, "note": "early"})
    run_id = start_run(api, "waits/start", {"id": key})
    wait_started(waits, run_id)

    assert_stays(
        lambda: still_waiting(waits, run_id),
        duration=1.0,
        what="the run to ignore a matching event received before the wait began",
    )

    api.send_event("waits/reply", {"id": key, "note": "late"})
    run = api.wait_for_run_status(run_id, "Completed")
    assert run["output"]["event"]["data"] == {"id": key, "note": "late"}


def test_an_event_sent_while_the_call_reaching_the_wait_is_in_flight_matches(
    waits: Stack,
) -> None:
    """The race of "start a run, then send the event it waits for": the event arrives while
    the call that reaches the wait is in flight, before the wait is recorded."""
    api = waits.api
    key = new_key()
    run_id = start_run(api, "waits/start", {"id": key, "delay": 1.0})
    waits.sidefx.wait_for(
        lambda es: any(e["kind"] == "WAITING" and e["run_id"] == run_id for e in es),
        timeout=10,
        what="the call that reaches the wait to be in flight",
    )
    api.send_event("waits/reply", {"id": "someone-else", "note": "wrong"})
    api.send_event("waits/reply", {"id": key, "note": "during the call"})

    run = api.wait_for_run_status(run_id, "Completed", timeout=8)  # the wait's timeout is 10 s
    assert run["output"]["event"]["data"] == {"id": key, "note": "during the call"}
    kinds = [h["kind"] for h in run_history(api, run_id)]
    assert kinds.count("step.waiting") == 1 and "step.resumed" in kinds, kinds
    assert api.get_json("/v1/runs/" + run_id + "/jobs")["data"] == []  # no timeout left queued


def test_one_event_resumes_every_run_waiting_for_it_once(waits: Stack) -> None:
    api = waits.api
    key = new_key()
    first = start_run(api, "waits/start", {"id": key})
    second = start_run(api, "waits/start", {"id": key})
    other = start_run(api, "waits/start", {"id": new_key()})
    for run_id in (first, second, other):
        wait_started(waits, run_id)

    reply = api.send_event("waits/reply", {"id": key, "n": 1})
    outputs = [api.wait_for_run_status(r, "Completed")["output"] for r in (first, second)]
    reply_id = api.data(f"/v1/events/{reply}")["id"]
    assert [o["event"]["id"] for o in outputs] == [reply_id, reply_id]

    # A second matching event finds no pause left: nothing changes, and the run waiting
    # for another id is untouched.
    api.send_event("waits/reply", {"id": key, "n": 2})
    assert_stays(
        lambda: (
            all(len(resumed(waits, r)) == 1 for r in (first, second))
            and still_waiting(waits, other)
        ),
        duration=1.0,
        what="each wait to be consumed once",
    )
    for run_id in (first, second):
        run = api.get_run(run_id)
        assert run is not None and run["output"]["event"]["data"] == {"id": key, "n": 1}


@pytest.mark.slow
def test_wait_times_out_with_none(waits: Stack) -> None:
    api = waits.api
    key = new_key()
    run_id = start_run(api, "waits/start", {"id": key, "timeout": 2})
    wait_started(waits, run_id)
    api.send_event("waits/reply", {"id": f"not-{key}"})

    done = waits.sidefx.wait_for(
        lambda es: any(e["kind"] == "RESUMED" and e["run_id"] == run_id for e in es),
        timeout=10,
        what="the 2 s wait to time out",
    )
    began = min(e["mono"] for e in done if e["kind"] == "WAITING" and e["run_id"] == run_id)
    (woke,) = [e for e in done if e["kind"] == "RESUMED" and e["run_id"] == run_id]
    assert woke["event"] is None
    gap = woke["mono"] - began
    assert 2.0 <= gap <= 3.5, f"a 2 s wait timed out {gap:.3f}s after it began"

    run = api.wait_for_run_status(run_id, "Completed")
    assert run["output"] == {"event": None}
    (memo,) = [s for s in api.run_steps(run_id) if s["name"] == "w"]
    assert memo["output"] is None
    kinds = [h["kind"] for h in run_history(api, run_id)]
    assert "step.timed_out" in kinds, kinds
    assert "step.resumed" not in kinds, kinds


def test_wait_on_literal_expression(waits: Stack) -> None:
    api = waits.api
    run_id = start_run(api, "waits/literal.start", {"id": new_key()})
    wait_started(waits, run_id)

    api.send_event("waits/decision", {"kind": "pending"})
    assert_stays(
        lambda: still_waiting(waits, run_id),
        duration=1.0,
        what="the run to keep waiting after kind == 'pending'",
    )

    api.send_event("waits/decision", {"kind": "approved", "by": "alice"})
    run = api.wait_for_run_status(run_id, "Completed")
    assert run["output"]["event"]["name"] == "waits/decision"
    assert run["output"]["event"]["data"] == {"kind": "approved", "by": "alice"}


def test_wait_without_if_matches_any_event_of_that_name(waits: Stack) -> None:
    api = waits.api
    run_id = start_run(api, "waits/any.start")
    wait_started(waits, run_id)

    api.send_event("waits/any.other", {"x": 1})
    assert_stays(
        lambda: still_waiting(waits, run_id),
        duration=0.5,
        what="the run to ignore an event with another name",
    )

    api.send_event("waits/any.reply", {"anything": 42})
    run = api.wait_for_run_status(run_id, "Completed")
    assert run["output"]["event"]["name"] == "waits/any.reply"
    assert run["output"]["event"]["data"] == {"anything": 42}
