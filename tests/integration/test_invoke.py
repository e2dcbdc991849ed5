"""step.invoke through the official Python SDK (child output, child failure, invoke timeout)
and `POST /invoke/{slug}` from outside."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest

from .harness import (
    JSONDict,
    Stack,
    assert_stays,
    lifecycle_events,
    run_history,
    running_stack,
    start_run,
    wait_until,
)

SLUGS = (
    "inv-child",
    "inv-bad-child",
    "inv-slow-child",
    "inv-parent",
    "inv-catcher",
    "inv-strict",
    "inv-impatient",
    "inv-lost",
)
INVOKED = "inngest/function.invoked"


@pytest.fixture(scope="module")
def invoker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("invoke"), "invoke_app", SLUGS) as stack:
        yield stack


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def new_token() -> str:
    return uuid.uuid4().hex


def child_notes(stack: Stack, fn: str, token: str) -> list[JSONDict]:
    return [
        e
        for e in stack.sidefx.select(kind="CHILD", fn=fn)
        if (e.get("data") or {}).get("token") == token
    ]


def the_child_run(stack: Stack, fn: str, token: str) -> JSONDict:
    """The single child run the parent with `token` started (via the child's side-effect note)."""
    notes = wait_until(
        lambda: child_notes(stack, fn, token) or None,
        timeout=10,
        what=f"the {fn} run invoked with token {token}",
    )
    assert len({n["run_id"] for n in notes}) == 1, f"more than one {fn} run: {notes}"
    run = stack.api.get_run(str(notes[0]["run_id"]))
    assert run is not None
    return run


def test_invoke_returns_child_output(invoker: Stack) -> None:
    api = invoker.api
    token = new_token()
    parent = api.trigger_and_wait("inv/parent", {"token": token})
    parent_id = str(parent["run_id"])
    assert parent["output"] == {"child": {"doubled": 42}, "plus_one": 43}

    (note,) = child_notes(invoker, "child", token)
    assert note["event_name"] == INVOKED
    assert note["data"]["x"] == 21

    child = api.wait_for_run_status(str(note["run_id"]), "Completed")
    assert child["function_id"] == "inv-child"
    assert child["output"] == {"doubled": 42}
    assert child["run_id"] != parent_id
    event = api.data(f"/v1/events/{child['event_id']}")
    assert event["name"] == INVOKED
    assert event["data"]["x"] == 21
    assert event["data"]["token"] == token
    assert [e["data"].get("token") for e in api.list_events(INVOKED)].count(token) == 1

    # The parent's memo is the child's output; the child's finished event carries the
    # correlation id `<parent run id>.<hashed step id>` (protocol §4.3).
    (call,) = [s for s in api.run_steps(parent_id) if s["name"] == "call"]
    assert call["output"] == {"doubled": 42}
    assert call["error"] is None
    kinds = [h["kind"] for h in run_history(api, parent_id)]
    assert "step.invoking" in kinds, kinds
    (finished,) = lifecycle_events(api, "inngest/function.finished", str(child["run_id"]))
    assert finished["data"].get("correlation_id") == f"{parent_id}.{sha1('call')}"
    assert len(invoker.sidefx.select(kind="INVOKE_DONE", run_id=parent_id)) == 1


def test_invoked_child_failure_raises_step_error_in_parent(invoker: Stack) -> None:
    api = invoker.api
    token = new_token()
    parent = api.trigger_and_wait("inv/catcher", {"token": token})
    out = parent["output"]
    assert out["caught"] == "StepError", out
    assert "child refuses" in out["message"], out

    child = the_child_run(invoker, "bad-child", token)
    api.wait_for_run_status(str(child["run_id"]), "Failed")
    (call,) = [s for s in api.run_steps(str(parent["run_id"])) if s["name"] == "call"]
    assert call["error"] is not None
    assert "child refuses" in str(call["error"])


def test_uncaught_invoke_failure_fails_parent(invoker: Stack) -> None:
    api = invoker.api
    token = new_token()
    parent = api.trigger_and_wait("inv/strict", {"token": token}, statuses="Failed")
    out = parent["output"]
    assert isinstance(out, dict), out
    assert out["code"] == "step_errored", out
    assert "child refuses" in out["message"], out
    child = the_child_run(invoker, "bad-child", token)
    assert child["status"] == "Failed"


def test_invoke_of_missing_function_fails_the_step_and_the_run_goes_on(invoker: Stack) -> None:
    # Once stuck Running with nothing queued: the discovery the error memo queued was merged
    # (same dedupe key) into the call's own item, which was then deleted.
    api = invoker.api
    run = api.trigger_and_wait("inv/lost", {}, timeout=10)
    out = run["output"]
    assert out["caught"] == "StepError", out
    assert "could not find function" in out["message"], out
    assert "no-such-function" in out["message"], out
    (call,) = [s for s in api.run_steps(str(run["run_id"])) if s["name"] == "call"]
    assert "could not find function" in str(call["error"])
    api.assert_no_zombies()


@pytest.mark.slow
def test_invoke_timeout(invoker: Stack) -> None:
    api = invoker.api
    token = new_token()
    parent_id = start_run(api, "inv/impatient", {"token": token})
    parent = api.wait_for_run_status(parent_id, "Completed", timeout=15)
    out = parent["output"]
    assert out["caught"] == "StepError", out
    assert out["name"] == "InngestInvokeTimeoutError", out
    assert out["message"] == "Timed out waiting for invoked function to complete", out

    notes = invoker.sidefx.select(run_id=parent_id)
    began = min(e["mono"] for e in notes if e["kind"] == "INVOKE_BEGIN")
    (done,) = [e for e in notes if e["kind"] == "INVOKE_DONE"]
    gap = done["mono"] - began
    assert 1.0 <= gap <= 3.0, f"an invoke with a 1 s timeout gave up after {gap:.2f}s"

    # The child is not cancelled by the parent's timeout; when it finishes, its result must
    # not reach the parent (its wait already timed out).
    child = the_child_run(invoker, "slow-child", token)
    child_id = str(child["run_id"])
    api.wait_for_run_status(child_id, "Completed", timeout=15)
    assert_stays(
        lambda: api.get_run(parent_id) == parent,
        duration=0.5,
        what="the parent to stay as it was after the late child finished",
    )
    (call,) = [s for s in api.run_steps(parent_id) if s["name"] == "call"]
    assert "InngestInvokeTimeoutError" in str(call["error"]), call


def test_invoke_endpoint(invoker: Stack) -> None:
    api = invoker.api
    token = new_token()
    resp = api.http.post("/invoke/inv-child", json={"data": {"x": 5, "token": token}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == 200, body
    event_id = str(body["id"])

    (run,) = api.runs_for_event(event_id)
    assert run["function_id"] == "inv-child"
    done = api.wait_for_run_status(str(run["run_id"]), "Completed")
    assert done["output"] == {"doubled": 10}
    event = api.data(f"/v1/events/{event_id}")
    assert event["name"] == INVOKED
    assert event["data"]["x"] == 5
    (note,) = child_notes(invoker, "child", token)
    assert note["event_name"] == INVOKED
    assert note["run_id"] == run["run_id"]

    unknown = api.http.post("/invoke/inv-nope", json={"data": {}})
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["status"] == 404
    assert unknown.json()["error"]
