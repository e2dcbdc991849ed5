"""Durable endpoints of the TypeScript SDK (npm `inngest` 4.24.0, `inngest.endpoint(...)`).

The Node app serves plain HTTP endpoints at `/api/endpoint/<name>` (app/server.js) whose handlers
run steps in the caller's request: the SDK checkpoints them to `POST /v1/checkpoint` and
`/v1/checkpoint/{run}/steps`. When a step fails, sleeps or runs in parallel, the SDK redirects
its caller to `/v1/http/runs/{run}/output?token=` and the server continues the run by replaying
the request. One test kills the server with SIGKILL while a run is held in a step; the
streaming test follows an endpoint's `stream.push()` output from the caller's request to the
server's `/v1/realtime/publish/tee` → `/v1/realtime/sse` once the server took the run over.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from integration.harness import JSONDict

from .endpoint_stream import IN_REQUEST, THROUGH_SERVER, stream_from_endpoint
from .ts_harness import TsStack, running_ts_stack

SYNC_TIMEOUT_S = 3  # --endpoint-sync-timeout: the server takes a silent run over after this


@pytest.fixture(scope="module")
def ts(node_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TsStack]:
    workdir = tmp_path_factory.mktemp("ts-endpoints")
    args = ["--endpoint-sync-timeout", str(SYNC_TIMEOUT_S)]
    with running_ts_stack(workdir, checkpointing=True, server_args=args) as stack:
        yield stack


def endpoint_url(ts: TsStack, name: str) -> str:
    return f"http://127.0.0.1:{ts.stack.app.port}/api/endpoint/{name}"


def call(ts: TsStack, name: str, **params: Any) -> httpx.Response:
    """Call an endpoint as a browser would: following the SDK's redirect to the run output."""
    return httpx.get(endpoint_url(ts, name), params=params, follow_redirects=True, timeout=30)


def history(ts: TsStack, run_id: str) -> list[tuple[str, str | None, int | None]]:
    entries = ts.api.data(f"/v1/runs/{run_id}/history")
    return [(e["kind"], e["step_name"], e["attempt"]) for e in entries]


def started(ts: TsStack, run_id: str, step: str) -> int:
    """How many times the step's body began (the app's side-effect log)."""
    return len(ts.sidefx.select(kind="START", run_id=run_id, step=step))


def trace_status(ts: TsStack, run_id: str) -> tuple[str, str, list[tuple[str, str]]]:
    """`run.status`, `run.trace.status` and the step spans, as @inngest/test-harness reads
    them (it trusts the trace's status for durable endpoints)."""
    query = """query ($runId: String!) { run(runID: $runId) { status
        trace(preview: true) { status childrenSpans { name status } } } }"""
    resp = ts.api.http.post("/v0/gql", json={"query": query, "variables": {"runId": run_id}})
    assert resp.status_code == 200, resp.text
    run = resp.json()["data"]["run"]
    spans = [(s["name"], s["status"]) for s in run["trace"]["childrenSpans"]]
    return run["status"], run["trace"]["status"], spans


def test_an_endpoint_runs_its_steps_in_the_request(ts: TsStack) -> None:
    resp = call(ts, "chain", n=2)

    assert resp.status_code == 200 and not resp.history, resp.text  # no redirect: all in sync
    body = resp.json()
    assert body["total"] == 35
    run_id = body["run_id"]
    run = ts.api.wait_for_run_status(run_id, "Completed")
    assert run["output"]["status"] == 200
    assert [s["name"] for s in ts.api.run_steps(run_id)] == ["one", "two", "three"]
    assert [s["output"] for s in ts.api.run_steps(run_id)] == [3, 30, 35]
    assert all(started(ts, run_id, step) == 1 for step in ("one", "two", "three"))
    assert trace_status(ts, run_id) == (
        "COMPLETED",
        "COMPLETED",
        [
            ("one", "COMPLETED"),
            ("two", "COMPLETED"),
            ("three", "COMPLETED"),
            ("Finalization", "COMPLETED"),
        ],
    )
    event = ts.api.data(f"/v1/events/{run['event_id']}")
    assert event["name"] == "inngest/http.request"
    assert event["data"]["path"] == "/api/endpoint/chain"
    assert event["data"]["query_params"] == "n=2"
    assert run["function_id"] in ts.api.function_slugs()  # listed like any function


def test_a_failing_step_goes_on_asynchronously_and_completes(ts: TsStack) -> None:
    resp = call(ts, "flaky", fail=1)

    assert resp.status_code == 200, resp.text
    [redirect] = resp.history
    assert redirect.status_code == 302
    assert "/v1/http/runs/" in redirect.headers["location"]
    run_id = resp.json()["run_id"]
    assert resp.json()["tries"] == 2
    run = ts.api.wait_for_run_status(run_id, "Completed")
    assert run["status"] == "Completed"
    assert ("step.error", "wobbly", 0) in history(ts, run_id)
    assert ("step.completed", "wobbly", 1) in history(ts, run_id)
    assert started(ts, run_id, "warmup") == 1  # checkpointed in the request, not run again
    assert started(ts, run_id, "wobbly") == 2
    assert trace_status(ts, run_id)[:2] == ("COMPLETED", "COMPLETED")


def test_a_step_failing_for_good_fails_the_run_and_its_caller(ts: TsStack) -> None:
    resp = call(ts, "flaky", fail=99)

    assert resp.status_code == 500 and resp.history, resp.text
    assert resp.json()["status"] == "failed"
    run_id = httpx.URL(resp.history[0].headers["location"]).path.split("/")[-2]
    assert ts.api.get_run(run_id)["status"] == "Failed"  # type: ignore[index]
    assert started(ts, run_id, "wobbly") == 4  # the endpoint's default: 3 retries
    assert trace_status(ts, run_id)[:2] == ("FAILED", "FAILED")


def test_a_sleep_in_an_endpoint_wakes_the_run_later(ts: TsStack) -> None:
    resp = call(ts, "nap")

    assert resp.status_code == 200 and resp.history, resp.text
    assert resp.json()["before"] == "before" and resp.json()["after"] == "after"
    run_id = resp.json()["run_id"]
    kinds = [kind for kind, _, _ in history(ts, run_id)]
    assert "step.sleep" in kinds and "step.woke" in kinds
    assert started(ts, run_id, "before") == 1


def test_parallel_steps_of_an_endpoint(ts: TsStack) -> None:
    resp = call(ts, "pair")

    assert resp.status_code == 200, resp.text
    run_id = resp.json()["run_id"]
    assert resp.json()["joined"] == "LR"
    assert [started(ts, run_id, s) for s in ("left", "right", "join")] == [1, 1, 1]


def test_a_handler_error_retries_the_call_not_its_steps(ts: TsStack) -> None:
    resp = call(ts, "recovers")

    assert resp.status_code == 200, resp.text
    run_id = resp.json()["run_id"]
    assert resp.json()["value"] == 7
    assert started(ts, run_id, "kept") == 1
    assert ("call.error", None, 0) in history(ts, run_id)
    status, trace, spans = trace_status(ts, run_id)
    assert (status, trace, spans[0]) == ("COMPLETED", "COMPLETED", ("kept", "COMPLETED"))


def test_the_output_route_needs_the_runs_token(ts: TsStack) -> None:
    first = httpx.get(endpoint_url(ts, "flaky"), params={"fail": 1}, timeout=30)
    assert first.status_code == 302
    location = httpx.URL(first.headers["location"])
    run_id = location.path.split("/")[-2]
    token = location.params["token"]

    assert ts.api.http.get(location.path, params={"token": "forged"}).status_code == 401
    assert ts.api.http.get(location.path).status_code == 401
    other = ts.api.http.get(f"/v1/http/runs/{'0' * 26}/output", params={"token": token})
    assert other.status_code == 401  # a token opens its own run only
    answer = ts.api.http.get(f"/v1/checkpoint/{run_id}/output", params={"token": token})
    assert answer.status_code == 200 and answer.json()["run_id"] == run_id


def test_a_run_survives_a_server_kill_and_finishes(ts: TsStack, tmp_path: Path) -> None:
    """SIGKILL while a step runs in the request: the app's next checkpoint fails, its caller
    gets a 500, and after the restart the server continues the run from what was committed."""
    gate = tmp_path / "gate"
    answers: list[httpx.Response] = []
    caller = threading.Thread(
        target=lambda: answers.append(
            httpx.get(endpoint_url(ts, "gated"), params={"gate": str(gate)}, timeout=60)
        )
    )
    caller.start()
    held = ts.sidefx.wait_for(
        lambda entries: any(e.get("step") == "gate" for e in entries),
        timeout=20,
        what="the endpoint to enter its gate step",
    )
    run_id = next(str(e["run_id"]) for e in held if e.get("step") == "gate")

    ts.stack.server.kill()
    gate.touch()
    caller.join(timeout=60)
    assert answers and answers[0].status_code == 500  # the SDK could not checkpoint "gate"
    ts.stack.server.start()
    ts.api.reset()

    run = ts.api.wait_for_run_status(run_id, "Completed", timeout=SYNC_TIMEOUT_S + 20)
    assert '"last":3' in run["output"]["body"]
    assert started(ts, run_id, "first") == 1  # committed before the kill: never run again
    assert started(ts, run_id, "last") == 1
    ts.api.assert_no_zombies()
    jobs: list[JSONDict] = ts.api.data(f"/v1/runs/{run_id}/jobs")
    assert jobs == []


def test_a_streaming_endpoint_streams_to_its_caller_through_the_server(
    ts: TsStack, tmp_path: Path
) -> None:
    """The SDK streams to its caller directly while the steps run in the request; after the
    sleep the server replays the request, the SDK tees its output to `/v1/realtime/publish/tee`
    and the caller, sent to `/v1/realtime/sse` with the run's realtime token, hears it live."""
    streamed = stream_from_endpoint(ts.stack.app.port, tmp_path, ts.api)

    assert streamed.status_while_held == "Running"  # "three" came while the run went on
    assert streamed.data() == IN_REQUEST + THROUGH_SERVER
    kinds = streamed.kinds()
    assert kinds.index("subscribe") < streamed.index_of(THROUGH_SERVER[0])
    assert kinds.count("commit") == 2  # each step's pieces, committed once it was recorded
    response = streamed.response()
    assert response["status"] == 200
    assert json.loads(response["body"]) == {"run_id": streamed.run_id, "total": 3}
    run = ts.api.wait_for_run_status(streamed.run_id, "Completed")
    assert run["output"]["status"] == 200
    assert [started(ts, streamed.run_id, step) for step in ("first", "second")] == [1, 1]

    # The SDK's realtime token opens this run's stream, and nothing else.
    url = httpx.URL(streamed.subscribed_at())
    assert str(url).startswith(f"{ts.stack.server.url}/v1/realtime/sse?token=")
    claims = jwt.decode(url.params["token"], options={"verify_signature": False})
    assert claims["topics"] == [{"kind": "run", "channel": streamed.run_id, "name": "$stream"}]
    assert claims["exp"] - claims["iat"] == 16 * 60
    other = {"token": url.params["token"], "channel": "another-run", "topic": "$stream"}
    assert ts.api.http.get("/v1/realtime/sse", params=other).status_code == 403
