"""Live overrides across two Mainspring processes on one PostgreSQL database: a change made
through one process is obeyed by the other from its next lease (concurrency: read by the store
itself) or as soon as its registry notification arrives (rate limit, within a lease period)."""

from __future__ import annotations

import time
import uuid

import pytest

from .harness import postgres_cluster, requires_postgres_dialect
from .overrides_helpers import (
    clear_overrides,
    finish,
    keyed_events,
    overlap_of,
    put_overrides,
    wait_for_override,
)
from .test_flow import SLUGS

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]

LEASE_SECONDS = 30  # the server default: "within one lease"


def test_overrides_reach_the_other_process(tmp_path_factory: pytest.TempPathFactory) -> None:
    workdir = tmp_path_factory.mktemp("overrides-multi")
    with postgres_cluster(workdir, "flow_app", SLUGS, 2) as cluster:
        here, there = cluster.apis

        # Lowered through one process, events sent to both at once: no gap for the other one.
        put_overrides(here, "flow-conc", {"concurrency": 1})
        ids = []
        for n in range(8):
            api = cluster.apis[n % 2]
            ids += api.send_events([{"name": "flow/conc", "data": {"seq": n}}])
        assert overlap_of(cluster.sidefx, finish(here, ids)) == 1

        # Raised through one process while the other's queued runs wait behind the old limit.
        ids = there.send_events(keyed_events(6))
        put_overrides(here, "flow-keyed", {"concurrency": 3})
        assert overlap_of(cluster.sidefx, finish(there, ids)) >= 2

        # Decided when a run starts: the other process applies it once notified.
        wanted = {"rateLimit": {"limit": 1, "period": "60s"}}
        sent = time.monotonic()
        put_overrides(here, "flow-rate", {"rateLimit": {"limit": 1, "period": "1m"}})
        wait_for_override(there, "flow-rate", wanted, timeout=LEASE_SECONDS)
        assert time.monotonic() - sent < 5, "the notification should take milliseconds"
        key = uuid.uuid4().hex
        ids = there.send_events([{"name": "flow/rate", "data": {"k": key}} for _ in range(2)])
        ended = finish(there, ids, {"Completed", "Skipped"})
        assert sorted(run["status"] for run in ended) == ["Completed", "Skipped"]

        clear_overrides(here, "flow-rate")
        wait_for_override(there, "flow-rate", {}, timeout=LEASE_SECONDS)
