"""Concurrency limits across three Mainspring processes on one PostgreSQL database: leasing
locks each key before counting its slots, so no two processes take the last slot at once."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest

from .harness import (
    JSONDict,
    postgres_cluster,
    requires_postgres_dialect,
    wait_until,
)
from .test_flow import SLUGS, max_overlap

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]

SERVERS = 3


def test_keyed_and_function_limits_hold_across_three_processes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("flow-multi")
    with postgres_cluster(workdir, "flow_app", SLUGS, SERVERS) as cluster:
        apis, sidefx = cluster.apis, cluster.sidefx
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
