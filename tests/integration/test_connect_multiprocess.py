"""Connect with two server processes on one PostgreSQL database: the workers are connected to
process A only, every event goes to process B. The calls B leases are forwarded to A over the
database's NOTIFY and complete, each step once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .connect_workers import ConnectWorker
from .harness import (
    Api,
    ServerProcess,
    SideEffects,
    distinct_ports,
    postgres_databases,
    requires_postgres_dialect,
)

pytestmark = requires_postgres_dialect()
SLUGS = ("cw-chain", "cw-flaky", "cw-sleeper", "cw-slow")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Api, SideEffects]]:
    workdir: Path = tmp_path_factory.mktemp("connect-mp")
    databases = postgres_databases()
    db = databases.create()
    port_a, port_b, gateway_a, gateway_b = distinct_ports(4)
    servers = [
        ServerProcess(
            port=port,
            db_path=workdir / "unused.db",
            db=db,
            log_dir=workdir,
            extra_args=["--connect-gateway-port", str(gateway)],
            name=name,
        )
        for name, port, gateway in (("a", port_a, gateway_a), ("b", port_b, gateway_b))
    ]
    sidefx = workdir / "side_effects.jsonl"
    worker = ConnectWorker("w1", server_url=servers[0].url, log_dir=workdir, sidefx=sidefx)
    apis = [Api(server) for server in servers]
    try:
        for server in servers:
            server.start()
        worker.start(apis[0])
        for api in apis:
            api.wait_for_sync(SLUGS)
        yield apis[0], apis[1], SideEffects(sidefx)
    finally:
        for api in apis:
            api.close()
        worker.stop()
        for server in servers:
            server.stop()
        databases.drop(db)


def test_calls_leased_by_the_other_process_reach_the_worker(
    pair: tuple[Api, Api, SideEffects],
) -> None:
    a, b, sidefx = pair
    assert a.data("/v1/connect/workers") and not b.data("/v1/connect/workers")
    event_ids = [b.send_event("cw/chain", {"n": n}) for n in range(20)]
    runs = [b.run_for_event(event_id) for event_id in event_ids]
    for n, run in enumerate(runs):
        done = b.wait_for_run_status(str(run["run_id"]), "Completed", timeout=60)
        assert done["output"] == {"total": (n + 1) * 10 + 5}
        ends = sidefx.select(run_id=run["run_id"], kind="END")
        assert [e["step"] for e in ends] == ["one", "two", "three"]


def test_a_sleep_and_a_retry_through_the_other_process(pair: tuple[Api, Api, SideEffects]) -> None:
    _, b, _ = pair
    assert b.trigger_and_wait("cw/sleeper", timeout=30)["output"] == "woke"
    assert b.trigger_and_wait("cw/flaky", timeout=30)["output"] == {"attempt": 1}
