"""Connect in production mode (`mainspring start`): a worker with the server's signing key dials
in and runs its function; a wrong key is refused at `/v0/connect/start`, and a WebSocket with a
forged session token is closed before anything is synced."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from mainspring.protocol import connect as wire

from .connect_workers import ConnectWorker, connected
from .harness import free_port, wait_until
from .production import CloudApi, CloudServer, bearer, new_signing_key


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CloudServer, CloudApi, Path]]:
    workdir = tmp_path_factory.mktemp("connect-prod")
    server = CloudServer(
        signing_key=new_signing_key(),
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        extra_args=["--connect-gateway-port", str(free_port())],
    )
    api = CloudApi(server)
    try:
        server.start()
        yield server, api, workdir
    finally:
        api.close()
        server.stop()
        server.release_db()


def _worker(name: str, key: str, server: CloudServer, workdir: Path) -> ConnectWorker:
    env = {"INNGEST_DEV": "0", "INNGEST_SIGNING_KEY": key, "INNGEST_EVENT_KEY": "test"}
    return ConnectWorker(
        name,
        server_url=server.url,
        log_dir=workdir,
        sidefx=workdir / "side_effects.jsonl",
        extra_env=env,
    )


def test_a_worker_with_the_signing_key_runs_its_functions(
    cloud: tuple[CloudServer, CloudApi, Path],
) -> None:
    server, api, workdir = cloud
    worker = _worker("good", server.signing_key, server, workdir)
    try:
        worker.start(api)
        run = api.trigger_and_wait("cw/chain", {"n": 2})
        assert run["output"] == {"total": 35}
    finally:
        worker.stop()


def test_a_wrong_key_is_refused(cloud: tuple[CloudServer, CloudApi, Path]) -> None:
    server, api, workdir = cloud
    refused = httpx.post(f"{server.url}/v0/connect/start", headers=bearer(new_signing_key()))
    assert refused.status_code == 401
    worker = _worker("bad", new_signing_key(), server, workdir)
    worker.spawn()
    try:
        assert worker.proc is not None
        wait_until(
            lambda: True if worker.proc is not None and worker.proc.poll() is not None else None,
            timeout=30,
            what="the worker with a wrong key to give up",
        )
        assert "bad" not in connected(api)
    finally:
        worker.stop()


def test_a_forged_session_token_is_closed(cloud: tuple[CloudServer, CloudApi, Path]) -> None:
    server, _, _ = cloud
    start = httpx.post(f"{server.url}/v0/connect/start", headers=bearer(server.signing_key))
    assert start.status_code == 200
    answer = wire.StartResponse()
    answer.ParseFromString(start.content)

    async def handshake() -> int | None:
        async with websockets.connect(
            answer.gateway_endpoint,
            subprotocols=[websockets.Subprotocol(wire.SUBPROTOCOL)],
        ) as socket:
            hello = wire.unframe(await socket.recv())  # type: ignore[arg-type]
            assert hello.kind == wire.Kind.GATEWAY_HELLO
            forged = wire.WorkerConnectRequestData(connection_id=answer.connection_id)
            forged.auth_data.session_token = "9999999999.deadbeef"
            await socket.send(wire.frame(wire.Kind.WORKER_CONNECT, forged.SerializeToString()))
            try:
                await socket.recv()
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
            return None

    assert asyncio.run(handshake()) == 1008
