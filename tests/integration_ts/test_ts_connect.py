"""Connect through the TypeScript SDK (`inngest/connect`): a Node worker with no HTTP server
dials in to a real server and runs steps, retries, sleeps and non-retriable failures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from integration.connect_workers import ConnectWorker, connected
from integration.harness import Api, ServerProcess, SideEffects, free_port, wait_until

from .ts_harness import NODE_APP_DIR

SLUGS = ("ts-cw-chain", "ts-cw-flaky", "ts-cw-sleeper", "ts-cw-fatal", "ts-cw-slow")


@dataclass
class TsConnect:
    api: Api
    sidefx: SideEffects
    workers: dict[str, ConnectWorker]


@pytest.fixture(scope="module")
def stack(node_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TsConnect]:
    workdir = tmp_path_factory.mktemp("ts-connect")
    server = ServerProcess(
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        extra_args=["--connect-gateway-port", str(free_port())],
    )
    node = shutil.which("node")
    assert node is not None
    sidefx = workdir / "side_effects.jsonl"
    # Node 20 has its global WebSocket behind a flag (on by default from Node 22).
    command = [node, "--experimental-websocket", str(NODE_APP_DIR / "connect_worker.js")]
    workers = {
        name: ConnectWorker(
            name,
            server_url=server.url,
            log_dir=workdir,
            sidefx=sidefx,
            command=command,
            cwd=NODE_APP_DIR,
        )
        for name in ("t1", "t2")
    }
    api = Api(server)
    try:
        server.start()
        for worker in workers.values():
            worker.start(api)
        api.wait_for_sync(SLUGS)
        yield TsConnect(api, SideEffects(sidefx), workers)
    finally:
        api.close()
        for worker in workers.values():
            worker.stop()
        server.stop()
        server.release_db()


def test_three_steps(stack: TsConnect) -> None:
    api, sidefx = stack.api, stack.sidefx
    run = api.trigger_and_wait("ts-cw/chain", {"n": 1})
    assert run["output"] == {"total": 25}
    steps = [e["step"] for e in sidefx.select(run_id=run["run_id"])]
    assert steps == ["one", "two", "three"]


def test_retry_then_success(stack: TsConnect) -> None:
    api = stack.api
    assert api.trigger_and_wait("ts-cw/flaky")["output"] == {"attempt": 1}


def test_sleep(stack: TsConnect) -> None:
    api = stack.api
    assert api.trigger_and_wait("ts-cw/sleeper")["output"] == "woke"


def test_non_retriable_error_fails_the_run(stack: TsConnect) -> None:
    api, sidefx = stack.api, stack.sidefx
    run = api.trigger_and_wait("ts-cw/fatal", statuses="Failed")
    assert len(sidefx.select(run_id=run["run_id"], step="boom")) == 1


def test_worker_status_reports_show_the_call_the_worker_holds(stack: TsConnect) -> None:
    """The TypeScript SDK sends WORKER_STATUS every `status_interval` (5 s, offered in
    GATEWAY_CONNECTION_READY): the worker holding a slow step reports it in flight."""
    api = stack.api
    run_id = str(api.run_for_event(api.send_event("ts-cw/slow", {"hold_ms": 5500}))["run_id"])

    def holding() -> dict[str, object] | None:
        workers = api.data("/v1/connect/workers")
        return next((w for w in workers if w["reported_in_flight"] == 1), None)

    worker = wait_until(holding, timeout=10, what="a WORKER_STATUS with the call in flight")
    assert worker["in_flight"] == 1 and worker["reported_at"] and worker["status"] == "READY"
    api.wait_for_run_status(run_id, "Completed", timeout=20)


def test_a_worker_killed_mid_step_loses_its_call_to_the_other(stack: TsConnect) -> None:
    api, sidefx = stack.api, stack.sidefx
    run_id = str(api.run_for_event(api.send_event("ts-cw/slow", {"hold_ms": 1500}))["run_id"])
    started = sidefx.wait_for(
        lambda fx: any(e.get("step") == "hold" and e.get("run_id") == run_id for e in fx),
        timeout=20,
        what="the slow step to start",
    )
    first = next(e for e in started if e.get("step") == "hold" and e.get("run_id") == run_id)
    victim = stack.workers[first["instance"]]
    victim.kill()
    wait_until(
        lambda: victim.instance not in connected(api) or None,
        timeout=10,
        what="the killed worker to leave",
    )
    done = api.wait_for_run_status(run_id, "Completed", timeout=30)
    assert done["output"] != victim.instance and done["output"] in stack.workers
