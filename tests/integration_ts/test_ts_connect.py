"""Connect through the TypeScript SDK (`inngest/connect`): a Node worker with no HTTP server
dials in to a real server and runs steps, retries, sleeps and non-retriable failures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.connect_workers import ConnectWorker
from integration.harness import Api, ServerProcess, SideEffects, free_port

from .ts_harness import NODE_APP_DIR

SLUGS = ("ts-cw-chain", "ts-cw-flaky", "ts-cw-sleeper", "ts-cw-fatal")


@pytest.fixture(scope="module")
def stack(
    node_app: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, SideEffects]]:
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
    worker = ConnectWorker(
        "t1",
        server_url=server.url,
        log_dir=workdir,
        sidefx=sidefx,
        command=command,
        cwd=NODE_APP_DIR,
    )
    api = Api(server)
    try:
        server.start()
        worker.start(api)
        api.wait_for_sync(SLUGS)
        yield api, SideEffects(sidefx)
    finally:
        api.close()
        worker.stop()
        server.stop()
        server.release_db()


def test_three_steps(stack: tuple[Api, SideEffects]) -> None:
    api, sidefx = stack
    run = api.trigger_and_wait("ts-cw/chain", {"n": 1})
    assert run["output"] == {"total": 25}
    steps = [e["step"] for e in sidefx.select(run_id=run["run_id"])]
    assert steps == ["one", "two", "three"]


def test_retry_then_success(stack: tuple[Api, SideEffects]) -> None:
    api, _ = stack
    assert api.trigger_and_wait("ts-cw/flaky")["output"] == {"attempt": 1}


def test_sleep(stack: tuple[Api, SideEffects]) -> None:
    api, _ = stack
    assert api.trigger_and_wait("ts-cw/sleeper")["output"] == "woke"


def test_non_retriable_error_fails_the_run(stack: tuple[Api, SideEffects]) -> None:
    api, sidefx = stack
    run = api.trigger_and_wait("ts-cw/fatal", statuses="Failed")
    assert len(sidefx.select(run_id=run["run_id"], step="boom")) == 1
