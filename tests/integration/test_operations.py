"""Operations through the REST API with the official Python SDK: pausing a function, the kill
switch, reruns and bulk replays (issue 7, items 2 and 3)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .harness import JSONDict, Stack, assert_stays, running_stack, start_run, wait_until

SLUGS = ("ops-steps", "ops-quick", "ops-fails")
UNKNOWN_RUN_ID = "01KAAAAAAAAAAAAAAAAAAAAAAA"
HOLD_S = 1.5


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("ops"), "ops_app", SLUGS) as stack:
        yield stack


def calls(stack: Stack, run_id: str) -> int:
    return len(stack.sidefx.select(kind="CALL", run_id=run_id))


def status(stack: Stack, run_id: str) -> str:
    run = stack.api.get_run(run_id)
    assert run is not None, run_id
    return str(run["status"])


def wait_for_entry(stack: Stack, kind: str, run_id: str, step: str) -> None:
    wait_until(
        lambda: stack.sidefx.select(kind=kind, run_id=run_id, step=step) or None,
        timeout=20,
        what=f"{kind} of step {step}",
    )


def post(stack: Stack, path: str, body: JSONDict | None = None, **headers: str) -> JSONDict:
    resp = stack.api.http.post(path, json=body, headers=headers)
    assert resp.status_code in (200, 201), f"POST {path} -> {resp.status_code}: {resp.text}"
    data: JSONDict = resp.json()["data"]
    return data


def test_paused_function_starts_no_run_until_resumed(ops: Stack) -> None:
    api = ops.api
    paused = post(ops, "/v1/functions/ops-quick/pause", {"reason": "deploy", "requested_by": "ann"})
    assert paused["paused"] is True and paused["reason"] == "deploy", paused
    assert api.data("/v1/functions/ops-quick/pause")["requested_by"] == "ann"
    assert [p["function_id"] for p in api.data("/v1/functions/paused")] == ["ops-quick"]

    # The event is accepted and stored; its run exists but makes no SDK call.
    run_id = start_run(api, "ops/quick", {"n": 7})
    assert_stays(lambda: calls(ops, run_id) == 0, duration=HOLD_S, what="no SDK call while paused")
    assert status(ops, run_id) == "Running"

    resumed = post(ops, "/v1/functions/ops-quick/resume")
    assert resumed["paused"] is False and resumed["resumed"] >= 1, resumed
    run = api.wait_for_run_status(run_id, "Completed")
    assert run["output"] == {"n": 7}
    assert api.data("/v1/functions/paused") == []
    assert api.data("/v1/functions/ops-quick/pause")["paused"] is False


def test_resume_can_skip_events_received_while_paused(ops: Stack) -> None:
    api = ops.api
    post(ops, "/v1/functions/ops-quick/pause")
    run_id = start_run(api, "ops/quick", {"n": 1})
    resumed = post(ops, "/v1/functions/ops-quick/resume", {"skip_held_events": True})
    assert resumed["skipped_run_ids"] == [run_id], resumed
    run = api.wait_for_run_status(run_id, "Cancelled")
    assert "skipped" in run["output"], run
    assert calls(ops, run_id) == 0
    # The event itself is kept.
    assert api.data(f"/v1/events/{run['event_id']}")["data"] == {"n": 1}
    # New events start runs again.
    later = start_run(api, "ops/quick", {"n": 2})
    api.wait_for_run_status(later, "Completed")


def test_pause_stops_a_started_run_at_its_next_step_and_resume_continues(ops: Stack) -> None:
    api = ops.api
    run_id = start_run(api, "ops/steps", {"slow": 2.0})
    wait_for_entry(ops, "START", run_id, "two")
    post(ops, "/v1/functions/ops-steps/pause")
    wait_for_entry(ops, "END", run_id, "two")

    def three_started() -> bool:
        return bool(ops.sidefx.select(kind="START", run_id=run_id, step="three"))

    assert_stays(lambda: not three_started(), duration=HOLD_S, what="step three held")
    assert status(ops, run_id) == "Running"
    steps = [step["name"] for step in api.data(f"/v1/runs/{run_id}/steps")]
    assert steps == ["one", "two"], steps

    post(ops, "/v1/functions/ops-steps/resume")
    run = api.wait_for_run_status(run_id, "Completed")
    assert run["output"] == {"total": 6}
    # Exactly where it was: no step body ran twice.
    for step in ("one", "two", "three"):
        assert len(ops.sidefx.select(kind="START", run_id=run_id, step=step)) == 1, step


def test_kill_switch_holds_every_function(ops: Stack) -> None:
    api = ops.api
    assert api.data("/v1/kill-switch")["active"] is False
    on = post(ops, "/v1/kill-switch", {"reason": "incident 42", "requested_by": "oncall"})
    assert on["active"] is True and on["reason"] == "incident 42", on
    assert on["requested_by"] == "oncall" and on["since"], on
    assert api.data("/v1/kill-switch") == on

    quick = start_run(api, "ops/quick", {"n": 3})
    steps = start_run(api, "ops/steps", {"slow": 0})
    assert_stays(
        lambda: calls(ops, quick) == 0 and calls(ops, steps) == 0,
        duration=HOLD_S,
        what="no SDK call under the kill switch",
    )
    resp = api.http.request("DELETE", "/v1/kill-switch")
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["active"] is False
    api.wait_for_run_status(quick, "Completed")
    api.wait_for_run_status(steps, "Completed")


def test_rerun_starts_a_new_run_with_the_same_event(ops: Stack) -> None:
    api = ops.api
    first = start_run(api, "ops/quick", {"n": 11})
    original = api.wait_for_run_status(first, "Completed")
    for prefix in ("/v1", "/v2"):
        again = post(ops, f"{prefix}/runs/{first}/rerun")
        assert again["original_run_id"] == first and again["run_id"] != first
        rerun = api.wait_for_run_status(again["run_id"], "Completed")
        assert rerun["event_id"] == original["event_id"]
        assert rerun["output"] == {"n": 11}
    assert api.http.post(f"/v2/runs/{UNKNOWN_RUN_ID}/rerun").status_code == 404


def test_rerun_from_a_step_runs_that_step_and_the_later_ones_only(ops: Stack) -> None:
    api = ops.api
    first = start_run(api, "ops/steps", {"slow": 0})
    api.wait_for_run_status(first, "Completed")
    [two] = [s for s in api.run_steps(first) if s["name"] == "two"]

    again = post(ops, f"/v2/runs/{first}/rerun", {"fromStep": {"stepId": two["id"]}})
    rerun = api.wait_for_run_status(again["run_id"], "Completed")
    assert rerun["output"] == {"total": 6}
    ran = [e["step"] for e in ops.sidefx.select(kind="START", run_id=again["run_id"])]
    assert ran == ["two", "three"]  # "one" was kept: its memo was copied, its body not run
    assert [s["name"] for s in api.run_steps(again["run_id"])] == ["one", "two", "three"]

    by_name = post(ops, f"/v1/runs/{first}/rerun", {"fromStep": {"stepId": "three"}})
    api.wait_for_run_status(by_name["run_id"], "Completed")
    ran = [e["step"] for e in ops.sidefx.select(kind="START", run_id=by_name["run_id"])]
    assert ran == ["three"]

    for body, field in (
        ({"fromStep": {"stepId": "no-such-step"}}, "fromStep.stepId"),
        ({"fromStep": {"stepId": two["id"], "input": [1]}}, "fromStep.input"),
        ({"fromStep": "two"}, "fromStep"),
    ):
        resp = api.http.post(f"/v2/runs/{first}/rerun", json=body)
        assert resp.status_code == 400 and resp.json()["field"] == field, resp.text
    resp = api.http.post(f"/v2/runs/{first}/rerun", content=b"{oops")
    assert resp.status_code == 400 and resp.json()["field"] == "body"


def test_v2_cancel(ops: Stack) -> None:
    api = ops.api
    post(ops, "/v1/functions/ops-quick/pause")
    try:
        run_id = start_run(api, "ops/quick", {"n": 5})
        cancelled = post(ops, f"/v2/runs/{run_id}/cancel")
        assert cancelled == {"run_id": run_id, "status": "Cancelled"}
    finally:
        post(ops, "/v1/functions/ops-quick/resume")
    assert_stays(lambda: calls(ops, run_id) == 0, duration=0.5, what="cancelled run not called")
    assert api.http.post(f"/v2/runs/{UNKNOWN_RUN_ID}/cancel").status_code == 404


def failed_runs(stack: Stack, count: int) -> list[str]:
    ids = [start_run(stack.api, "ops/fails", {"i": i}) for i in range(count)]
    for run_id in ids:
        stack.api.wait_for_run_status(run_id, "Failed")
    return ids


def test_bulk_replay_is_idempotent_per_key(ops: Stack) -> None:
    api = ops.api
    originals = failed_runs(ops, 3)
    key = uuid.uuid4().hex
    first = post(ops, "/v1/replays", {"run_ids": originals}, **{"Idempotency-Key": key})
    assert len(first["run_ids"]) == 3 and first["replay_id"], first
    assert not set(first["run_ids"]) & set(originals)
    again = post(ops, "/v1/replays", {"run_ids": originals}, **{"Idempotency-Key": key})
    assert again["replay_id"] == first["replay_id"] and again["run_ids"] == first["run_ids"]
    other = {"run_ids": originals[:1]}
    resp = api.http.post("/v1/replays", json=other, headers={"Idempotency-Key": key})
    assert resp.status_code == 409 and resp.json()["field"] == "Idempotency-Key", resp.text
    for run_id in first["run_ids"]:
        api.wait_for_run_status(run_id, "Failed")
        assert calls(ops, run_id) == 1
    assert len(api.list_runs("ops-fails")) == 6  # 3 originals + 3 replays, not 9


def test_bulk_replay_by_filter(ops: Stack) -> None:
    api = ops.api
    before = {run["run_id"] for run in api.list_runs("ops-fails", status="Failed")}
    replay = post(ops, "/v1/replays", {"function_id": "ops-fails", "status": "Failed"})
    assert len(replay["run_ids"]) == len(before) > 0, replay
    wait_until(
        lambda: all(status(ops, r) == "Failed" for r in replay["run_ids"]) or None,
        timeout=20,
        what="replayed runs failed again",
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/replays", {}, "function_id"),
        ("POST", "/v1/replays", {"run_ids": "x"}, "run_ids"),
        ("POST", "/v1/replays", {"run_ids": []}, "run_ids"),
        ("POST", "/v1/replays", {"run_ids": [UNKNOWN_RUN_ID]}, "run_ids"),
        ("POST", "/v1/replays", {"function_id": "ops-fails", "status": "Bad"}, "status"),
        ("POST", "/v1/replays", {"function_id": "f", "started_after": "x"}, "started_after"),
        ("POST", "/v1/replays", [1], "body"),
        ("POST", "/v1/kill-switch", {"reason": 5}, "reason"),
        ("POST", "/v1/kill-switch", {"requested_by": ["x"]}, "requested_by"),
        ("DELETE", "/v1/kill-switch", {"skip_held_events": "yes"}, "skip_held_events"),
        ("POST", "/v1/functions/ops-quick/resume", {"skip_held_events": 1}, "skip_held_events"),
        ("POST", "/v1/functions/ops-quick/pause", {"reason": {}}, "reason"),
    ],
)
def test_bad_input_names_the_field(
    ops: Stack, method: str, path: str, body: object, field: str
) -> None:
    resp = ops.api.http.request(method, path, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["field"] == field, resp.json()
    assert ops.api.data("/v1/kill-switch")["active"] is False


def test_invalid_json_and_unknown_function(ops: Stack) -> None:
    http = ops.api.http
    resp = http.post("/v1/kill-switch", content=b"{nope")
    assert resp.status_code == 400 and resp.json()["field"] == "body"
    for path in ("/v1/functions/nope/pause", "/v1/functions/nope/resume"):
        assert http.post(path).status_code == 404, path
    assert http.get("/v1/functions/nope/pause").status_code == 404


def test_kill_switch_off_keeps_separately_paused_functions_held(ops: Stack) -> None:
    api = ops.api
    post(ops, "/v1/functions/ops-quick/pause")
    post(ops, "/v1/kill-switch", {"reason": "both"})
    quick = start_run(api, "ops/quick", {"n": 9})
    steps = start_run(api, "ops/steps", {"slow": 0})
    resp = api.http.request("DELETE", "/v1/kill-switch")
    assert resp.status_code == 200
    api.wait_for_run_status(steps, "Completed")
    assert_stays(lambda: calls(ops, quick) == 0, duration=HOLD_S, what="ops-quick still paused")
    post(ops, "/v1/functions/ops-quick/resume")
    assert api.wait_for_run_status(quick, "Completed")["output"] == {"n": 9}


def test_kill_switch_off_can_skip_held_events(ops: Stack) -> None:
    api = ops.api
    post(ops, "/v1/kill-switch")
    held = start_run(api, "ops/quick", {"n": 4})
    resp = api.http.request("DELETE", "/v1/kill-switch", json={"skip_held_events": True})
    assert resp.status_code == 200 and resp.json()["data"]["skipped_run_ids"] == [held]
    assert "skipped" in api.wait_for_run_status(held, "Cancelled")["output"]
    assert calls(ops, held) == 0
