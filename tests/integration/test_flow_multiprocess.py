"""Concurrency limits across three Mainspring processes on one PostgreSQL database: leasing
locks each key before counting its slots, so no two processes take the last slot at once."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest

from .harness import (
    Api,
    AppProcess,
    JSONDict,
    ServerProcess,
    SideEffects,
    postgres_databases,
    requires_postgres_dialect,
    wait_until,
)
from .test_flow import SLUGS, max_overlap
from .test_multiprocess import distinct_ports

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]

SERVERS = 3


def test_keyed_and_function_limits_hold_across_three_processes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("flow-multi")
    databases = postgres_databases()
    db = databases.create()
    app_port, *server_ports = distinct_ports(1 + SERVERS)
    app_url = f"http://127.0.0.1:{app_port}/api/inngest"
    servers = [
        ServerProcess(
            port=port,
            db_path=workdir / "unused.db",
            db=db,
            log_dir=workdir,
            app_urls=[app_url],
            name=f"server{k}",
        )
        for k, port in enumerate(server_ports)
    ]
    sidefx = SideEffects(workdir / "side_effects.jsonl")
    app = AppProcess(
        "flow_app",
        port=app_port,
        server_url=servers[0].url,
        log_dir=workdir,
        side_effect_log=sidefx.path,
    )
    apis = [Api(server) for server in servers]
    try:
        app.start()
        for server in servers:
            server.start()
        for api in apis:
            api.wait_for_sync(SLUGS)
        keys = [f"k{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
        for n in range(6):  # every process ingests some of every key
            apis[n % SERVERS].send_events(
                [{"name": "flow/keyed", "data": {"k": k, "seq": n}} for k in keys]
            )
        for n in range(6):
            apis[n % SERVERS].send_events(
                [{"name": "flow/conc", "data": {"seq": n * 10 + i}} for i in range(10)]
            )

        def all_done() -> bool | None:
            runs = apis[0].list_runs("flow-keyed") + apis[0].list_runs("flow-conc")
            done = [r for r in runs if r["status"] == "Completed"]
            return True if len(done) == 18 + 60 else None

        wait_until(all_done, timeout=120, what="all runs to complete")
        entries = sidefx.read()
        keyed: dict[str, list[JSONDict]] = defaultdict(list)
        for entry in entries:
            if entry.get("step") == "work" and entry.get("k") in keys:
                keyed[entry["k"]].append(entry)
        assert set(keyed) == set(keys)
        for key, mine in keyed.items():
            assert max_overlap(mine) == 1, f"key {key} ran two bodies at once"
        assert max_overlap([e for es in keyed.values() for e in es]) >= 2
        conc = [e for e in entries if e.get("step") in ("a", "b")]
        assert len([e for e in conc if e["kind"] == "START"]) == 120
        assert max_overlap(conc) <= 5
    finally:
        for api in apis:
            api.close()
        for server in servers:
            server.stop()
        app.stop()
        databases.drop(db)
