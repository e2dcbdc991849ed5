"""Connect: functions of an app whose workers dial in over WebSocket (official Python SDK's
`inngest.connect`), run by a real server with no app URL at all."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mainspring.protocol import connect as wire

from .connect_workers import ConnectWorker, connected
from .harness import (
    SERVE_PATH,
    Api,
    AppProcess,
    ServerProcess,
    SideEffects,
    free_port,
    wait_until,
)

SLUGS = ("cw-chain", "cw-flaky", "cw-sleeper", "cw-parallel", "cw-slow")
INSTANCES = ("w1", "w2", "w3")  # three workers of one app share its load


@dataclass
class ConnectStack:
    server: ServerProcess
    api: Api
    sidefx: SideEffects
    workers: dict[str, ConnectWorker]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectStack]:
    workdir: Path = tmp_path_factory.mktemp("connect")
    app_port = free_port()
    server = ServerProcess(
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        app_urls=[f"http://127.0.0.1:{app_port}{SERVE_PATH}"],
        extra_args=["--connect-gateway-port", str(free_port())],
    )
    sidefx = workdir / "side_effects.jsonl"
    invoker = AppProcess(
        "connect_invoker_app", port=app_port, server_url=server.url, log_dir=workdir
    )
    workers = {
        name: ConnectWorker(name, server_url=server.url, log_dir=workdir, sidefx=sidefx)
        for name in INSTANCES
    }
    api = Api(server)
    try:
        invoker.start()
        server.start()
        for worker in workers.values():  # all at once: they join in parallel
            worker.spawn()
        for worker in workers.values():
            worker.wait_joined(api)
        api.wait_for_sync((*SLUGS, "inv-caller"))
        yield ConnectStack(server, api, SideEffects(sidefx), workers)
    finally:
        api.close()
        for worker in workers.values():
            worker.terminate()
        for worker in workers.values():
            worker.stop()
        invoker.stop()
        server.stop()
        server.release_db()


def test_start_answers_a_gateway_and_tokens(stack: ConnectStack) -> None:
    resp = httpx.post(f"{stack.server.url}/v0/connect/start", content=b"")
    assert resp.status_code == 200
    start = wire.StartResponse()
    start.ParseFromString(resp.content)
    assert start.gateway_endpoint.startswith("ws://127.0.0.1:")
    assert start.connection_id and start.session_token


def test_three_steps_run_through_connected_workers(stack: ConnectStack) -> None:
    run = stack.api.trigger_and_wait("cw/chain", {"n": 1})
    assert run["output"] == {"total": 25}
    assert [s["step"] for s in stack.sidefx.select(run_id=run["run_id"], kind="END")] == [
        "one",
        "two",
        "three",
    ]


def test_a_failed_step_is_retried(stack: ConnectStack) -> None:
    run = stack.api.trigger_and_wait("cw/flaky")
    assert run["output"] == {"attempt": 1}


def test_a_sleep_resumes_on_a_worker(stack: ConnectStack) -> None:
    run = stack.api.trigger_and_wait("cw/sleeper")
    assert run["output"] == "woke"


def test_a_parallel_group_runs_each_leg_once(stack: ConnectStack) -> None:
    run = stack.api.trigger_and_wait("cw/parallel")
    assert run["output"] == 6
    ends = stack.sidefx.select(run_id=run["run_id"], kind="END")
    assert sorted(e["step"] for e in ends) == ["p1", "p2", "p3"]


def test_an_http_app_invokes_a_connected_one(stack: ConnectStack) -> None:
    run = stack.api.trigger_and_wait("inv/call")
    assert run["output"] == {"total": 45}


def test_the_workers_share_the_load(stack: ConnectStack) -> None:
    event_ids = stack.api.send_events([{"name": "cw/chain", "data": {"n": n}} for n in range(30)])
    run_ids = [str(stack.api.run_for_event(e)["run_id"]) for e in event_ids]
    for run_id in run_ids:
        stack.api.wait_for_run_status(run_id, "Completed")
    pids = {e["pid"] for e in stack.sidefx.read() if e.get("run_id") in run_ids}
    assert pids == {w.proc.pid for w in stack.workers.values() if w.proc is not None}


def test_the_apps_workers_are_listed(stack: ConnectStack) -> None:
    workers = stack.api.data("/v1/connect/workers")
    assert {w["instance_id"] for w in workers} == set(INSTANCES)
    assert all(w["apps"] == ["cw"] and w["sdk"].startswith("inngest-py:v") for w in workers)
    assert all(w["status"] == "READY" for w in workers)


def test_a_worker_killed_mid_step_loses_its_call_to_another(stack: ConnectStack) -> None:
    """kill -9 while a step runs: the call goes back to the queue and another worker runs it."""
    event_id = stack.api.send_event("cw/slow", {"hold_s": 1.5})
    run = stack.api.run_for_event(event_id)
    run_id = str(run["run_id"])
    started = stack.sidefx.wait_for(
        lambda fx: any(e["kind"] == "slow-started" and e["run_id"] == run_id for e in fx),
        timeout=20,
        what="the slow step to start",
    )
    first = next(e for e in started if e["kind"] == "slow-started" and e["run_id"] == run_id)
    victim = stack.workers[first["instance"]]
    victim.kill()
    wait_until(
        lambda: victim.instance not in connected(stack.api) or None,
        timeout=10,
        what="the killed worker to leave",
    )
    done = stack.api.wait_for_run_status(run_id, "Completed", timeout=30)
    runs_of_step = stack.sidefx.select(kind="slow-started", run_id=run_id)
    assert [e["instance"] for e in runs_of_step][-1] != victim.instance
    survivors = {w.proc.pid for w in stack.workers.values() if w is not victim and w.proc}
    assert done["output"] in {f"done by {pid}" for pid in survivors}
    victim.start(stack.api)  # back for any test after this one


def test_a_server_restart_loses_nothing(stack: ConnectStack) -> None:
    """Runs in flight while the server stops: the workers reconnect to the new process and
    every run completes (a step whose call was in flight may run again: at least once)."""
    event_ids = stack.api.send_events([{"name": "cw/chain", "data": {"n": n}} for n in range(10)])
    event_ids += stack.api.send_events({"name": "cw/sleeper", "data": {}})
    run_ids = [str(stack.api.run_for_event(e)["run_id"]) for e in event_ids]
    stack.server.stop()
    stack.server.start()
    stack.api.reset()
    wait_until(
        lambda: connected(stack.api) >= set(INSTANCES) or None,
        timeout=30,
        what="the workers to reconnect",
    )
    for n, run_id in enumerate(run_ids[:-1]):
        done = stack.api.wait_for_run_status(run_id, "Completed", timeout=30)
        assert done["output"] == {"total": (n + 1) * 10 + 5}
    assert stack.api.wait_for_run_status(run_ids[-1], "Completed", timeout=30)["output"] == "woke"


def test_the_apps_page_shows_the_app_connected_with_its_workers(stack: ConnectStack) -> None:
    page = stack.api.http.get("/apps")
    assert page.status_code == 200
    html = page.text
    assert 'data-url="wss://connect/cw"' in html and ">connected<" in html
    assert all(f'data-worker="{name}"' in html for name in INSTANCES)


def test_the_sync_is_recorded_in_the_audit_log_as_connect(stack: ConnectStack) -> None:
    synced = stack.api.data("/v1/audit", action="app.synced")
    by_app = {entry["details"]["name"]: entry["actor"] for entry in synced}
    assert by_app["cw"] == "connect"  # the workers' sync, over their sockets
    assert by_app["inv"] == "dev"  # the HTTP app's `/fn/register` in dev mode


WORKERS_QUERY = """
query ($filter: ConnectV1WorkerConnectionsFilter!, $first: Int!, $after: String) {
  workerConnections(
    first: $first, after: $after, filter: $filter,
    orderBy: [{field: CONNECTED_AT, direction: ASC}]
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id gatewayId instanceId workerIp maxWorkerConcurrency appName appID app { name method }
      connectedAt lastHeartbeatAt disconnectedAt disconnectReason status groupHash
      sdkLang sdkVersion functionCount cpuCores memBytes os inFlight
    } }
  }
}
"""


def gql(stack: ConnectStack, query: str, **variables: Any) -> dict[str, Any]:
    resp = stack.api.http.post("/v0/gql", json={"query": query, "variables": variables})
    assert resp.status_code == 200, resp.text[:500]
    body: dict[str, Any] = resp.json()
    return body


def test_graphql_lists_the_worker_connections(stack: ConnectStack) -> None:
    body = gql(stack, WORKERS_QUERY, filter={"status": ["READY"]}, first=100)
    assert "errors" not in body, body["errors"]
    found = body["data"]["workerConnections"]
    nodes = [edge["node"] for edge in found["edges"]]
    assert found["totalCount"] == len(nodes) == len(INSTANCES)
    assert {n["instanceId"] for n in nodes} == set(INSTANCES)
    apps = gql(stack, "query { apps(filter: {method: CONNECT}) { id name connected } }")
    app = next(a for a in apps["data"]["apps"] if a["name"] == "cw")
    assert app["connected"] is True
    for node in nodes:
        assert node["appName"] == "cw" and node["appID"] == app["id"]
        assert node["app"] == {"name": "cw", "method": "CONNECT"}
        assert node["status"] == "READY" and node["disconnectedAt"] is None
        assert node["sdkLang"] == "py" and node["sdkVersion"]
        assert node["functionCount"] == len(SLUGS) and node["workerIp"] == "127.0.0.1"
        assert node["cpuCores"] > 0 and node["memBytes"] > 0 and node["os"]
    assert len({n["groupHash"] for n in nodes}) == 1  # the same function configs
    assert [n["connectedAt"] for n in nodes] == sorted(n["connectedAt"] for n in nodes)
    # pages: one at a time, the cursor of one is where the next starts
    first = gql(stack, WORKERS_QUERY, filter={"status": ["READY"]}, first=1)
    page = first["data"]["workerConnections"]
    assert page["pageInfo"]["hasNextPage"] and len(page["edges"]) == 1
    after = page["pageInfo"]["endCursor"]
    second = gql(stack, WORKERS_QUERY, filter={"status": ["READY"]}, first=1, after=after)
    assert second["data"]["workerConnections"]["edges"][0]["node"]["id"] == nodes[1]["id"]
    one = gql(
        stack,
        "query ($id: ULID!) { workerConnection(connectionId: $id) { instanceId status } }",
        id=nodes[0]["id"],
    )
    assert one["data"]["workerConnection"] == {
        "instanceId": nodes[0]["instanceId"],
        "status": "READY",
    }
    bad = gql(stack, 'query { workerConnection(connectionId: "nope") { id } }')
    assert bad["errors"][0]["extensions"]["argument"] == "connectionId"
    bad_cursor = gql(stack, WORKERS_QUERY, filter={}, first=1, after="x")
    assert bad_cursor["errors"][0]["extensions"]["argument"] == "after"
    bad_app = gql(stack, WORKERS_QUERY, filter={"appIDs": ["nope"]}, first=1)
    assert bad_app["errors"][0]["extensions"]["argument"] == "filter.appIDs"


def test_a_call_waits_for_its_absent_app_and_goes_out_when_a_worker_connects(
    stack: ConnectStack, tmp_path: Path
) -> None:
    """An app whose only worker left: its call is not lost, waits (parked, then backed off),
    and goes out once a worker of the app connects again; the worker that left is listed as
    DISCONNECTED by `workerConnections`."""
    late = ConnectWorker(
        "late",
        server_url=stack.server.url,
        log_dir=tmp_path,
        sidefx=tmp_path / "late.jsonl",
        extra_env={"CONNECT_APP_ID": "cwlate"},
    )
    late.start(stack.api)
    stack.api.wait_for_sync(("cwlate-chain",))
    late.stop()
    wait_until(lambda: "late" not in connected(stack.api) or None, timeout=10, what="it to leave")
    gone = gql(stack, WORKERS_QUERY, filter={"status": ["DISCONNECTED"]}, first=100)
    names = [e["node"] for e in gone["data"]["workerConnections"]["edges"]]
    assert any(n["instanceId"] == "late" and n["disconnectReason"] for n in names)
    assert all(n["status"] == "DISCONNECTED" and n["disconnectedAt"] for n in names)

    run = stack.api.run_for_event(stack.api.send_event("cwlate/chain", {"n": 2}))
    time.sleep(1.0)  # the call finds no worker (nothing to poll for: it must not complete)
    assert stack.api.get_run(str(run["run_id"]))["status"] != "Completed"
    try:
        late.start(stack.api)
        joined = time.monotonic()
        done = stack.api.wait_for_run_status(str(run["run_id"]), "Completed", timeout=20)
        assert done["output"] == {"total": 35}
        assert time.monotonic() - joined < 10.0  # within the longest back-off, not a minute
    finally:
        late.stop()
