"""Connect: functions of an app whose workers dial in over WebSocket (official Python SDK's
`inngest.connect`), run by a real server with no app URL at all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
        for name in ("w1", "w2")
    }
    api = Api(server)
    try:
        invoker.start()
        server.start()
        for worker in workers.values():
            worker.start(api)
        api.wait_for_sync((*SLUGS, "inv-caller"))
        yield ConnectStack(server, api, SideEffects(sidefx), workers)
    finally:
        api.close()
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
    assert {w["instance_id"] for w in workers} == {"w1", "w2"}
    assert all(w["apps"] == ["cw"] and w["sdk"].startswith("inngest-py:v") for w in workers)


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
    survivor = next(w for w in stack.workers.values() if w is not victim)
    assert survivor.proc is not None
    assert done["output"] == f"done by {survivor.proc.pid}"
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
        lambda: connected(stack.api) == {"w1", "w2"} or None,
        timeout=30,
        what="both workers to reconnect",
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
    assert 'data-worker="w1"' in html and 'data-worker="w2"' in html


def test_the_sync_is_recorded_in_the_audit_log_as_connect(stack: ConnectStack) -> None:
    synced = stack.api.data("/v1/audit", action="app.synced")
    by_app = {entry["details"]["name"]: entry["actor"] for entry in synced}
    assert by_app["cw"] == "connect"  # the workers' sync, over their sockets
    assert by_app["inv"] == "dev"  # the HTTP app's `/fn/register` in dev mode
