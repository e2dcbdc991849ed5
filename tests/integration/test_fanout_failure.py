"""Fan-out through step.send_event, and on_failure handlers."""

from __future__ import annotations

import time

from .harness import JSONDict, Stack, assert_stays, wait_until

CHILDREN = 50


def test_fanout_send_event_starts_children(core: Stack) -> None:
    api = core.api
    parent = api.trigger_and_wait("core/fanout", {"batch": "b1"})
    ids = parent["output"]["ids"]
    assert isinstance(ids, list) and len(ids) == CHILDREN
    assert len(set(ids)) == CHILDREN

    fan = [s for s in api.run_steps(str(parent["run_id"])) if s["name"] == "fan"]
    assert len(fan) == 1 and fan[0]["output"] == ids

    # Every child event started exactly one run of the child function, and each completes.
    pending = {str(event_id): -1 for event_id in ids}
    outputs: dict[str, JSONDict] = {}
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for event_id in list(pending):
            runs = api.data(f"/v1/events/{event_id}/runs")
            if not runs:
                continue
            assert len(runs) == 1, f"event {event_id} started {len(runs)} runs"
            assert runs[0]["function_id"] == "core-fanout-child"
            if runs[0]["status"] == "Completed":
                outputs[event_id] = runs[0]["output"]
                del pending[event_id]
            else:
                assert runs[0]["status"] == "Running", runs[0]
        time.sleep(0.1)
    assert not pending, f"{len(pending)} child runs did not complete\n{core.server.log_tail()}"

    assert sorted(o["i"] for o in outputs.values()) == list(range(CHILDREN))
    assert all(o["doubled"] == 2 * o["i"] for o in outputs.values())
    bodies = [e for e in core.sidefx.select(kind="START", step="work")]
    assert sorted(e["i"] for e in bodies) == list(range(CHILDREN)), "each child body exactly once"


def test_on_failure_handler_runs_once(core: Stack) -> None:
    api = core.api
    internal_id = api.send_event("core/fails", {"why": "testing on_failure"})
    run = api.run_for_event(internal_id)
    run_id = str(run["run_id"])
    failed = api.wait_for_run_status(run_id, "Failed")
    assert failed["output"]["message"] == "kaboom"
    assert [c["attempt"] for c in core.sidefx.select(kind="CALL", run_id=run_id)] == [0]

    def failure_runs() -> list[JSONDict] | None:
        runs = api.list_runs("core-fails-failure")
        return runs if runs and all(r["status"] == "Completed" for r in runs) else None

    runs = wait_until(failure_runs, timeout=20, what="the core-fails-failure run to complete")
    assert len(runs) == 1
    assert runs[0]["run_id"] != run_id

    notes = core.sidefx.select(kind="ON_FAILURE")
    assert len(notes) == 1
    note = notes[0]
    assert note["run_id"] == runs[0]["run_id"]
    assert note["event_name"] == "inngest/function.failed"
    assert note["attempt"] == 0
    data = note["data"]
    assert data["function_id"] == "core-fails"
    assert data["run_id"] == run_id

    original = api.data(f"/v1/events/{internal_id}")
    assert data["event"]["name"] == "core/fails"
    assert data["event"]["data"] == {"why": "testing on_failure"}
    assert data["event"]["id"] == original["id"]
    assert data["event"]["ts"] == original["ts"]
    assert set(data["error"]) == {"error", "name", "message", "stack"}
    assert data["error"]["message"] == "kaboom"

    # The lifecycle events are stored like any other event.
    for name in ("inngest/function.failed", "inngest/function.finished"):
        mine = [e for e in api.list_events(name) if e["data"].get("run_id") == run_id]
        assert len(mine) == 1, f"{name}: {mine}"
        assert mine[0]["data"]["function_id"] == "core-fails"

    # ... and exactly once: no second handler run shows up.
    assert_stays(
        lambda: (
            len(core.sidefx.select(kind="ON_FAILURE")) == 1
            and len(api.list_runs("core-fails-failure")) == 1
        ),
        duration=1.0,
        what="a single on_failure run",
    )
