"""Environments across two Mainspring processes on one PostgreSQL database: a branch
environment added by a sync through one process is served by the other within moments (its
NOTIFY), runs there, and the global kill switch set through one holds both."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .environments_kit import SLUGS, env_api, start_env_app, synced, until
from .harness import postgres_cluster, requires_postgres_dialect
from .test_environments import BRANCH, _run_of

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]


def test_a_branch_added_through_one_process_is_served_by_the_other(tmp_path: Path) -> None:
    with postgres_cluster(tmp_path, "env_app", SLUGS, 2, server_args=["--branch-envs"]) as cluster:
        here, there = cluster.servers
        app = start_env_app(here, tmp_path, BRANCH)  # syncs through the first process
        try:
            sync_sent = time.monotonic()
            branch_there = env_api(there, BRANCH)

            def served_there() -> bool:
                resp = branch_there.http.get("/v1/functions")
                return resp.status_code == 200 and set(SLUGS) <= synced(branch_there)

            until(served_there, timeout=20, what="the other process serves the branch")
            assert time.monotonic() - sync_sent < 5, "the NOTIFY should take moments, not a refresh"
            run = _run_of(branch_there, "env/echo", {"n": 7})
            assert branch_there.wait_for_run_status(run)["output"] == {"env": BRANCH, "n": 7}
            assert env_api(here, BRANCH).get_run(run) is not None  # one store, both processes
            assert cluster.apis[0].get_run(run) is None  # not in production
        finally:
            app.stop()
