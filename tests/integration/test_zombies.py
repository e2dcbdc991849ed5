"""The zombie check: a Running run always has a queue item, a wait, a timer or a lease.

A zombie is made on purpose by deleting a waiting run's queue items and pause directly in the
database (SQLite file or the test's PostgreSQL database); the check must find it, log it, count
it (`/metrics`, `/v1/health`), and repair it: the re-queued discovery call makes the SDK report
its wait again, and the run completes when the awaited event comes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .harness import (
    Api,
    Stack,
    db_execute,
    postgres_cluster,
    requires_postgres_dialect,
    run_history,
    running_stack,
    start_run,
    wait_for_history,
    wait_until,
)

SLUGS = ("waits-match",)


@pytest.fixture(scope="module")
def waits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The background check is off here: the tests run it through the API, at known moments.
    args = ("--zombie-check-interval", "0")
    workdir = tmp_path_factory.mktemp("zombies")
    with running_stack(workdir, "waits_app", SLUGS, server_args=args) as stack:
        yield stack


def start_waiting_run(api: Api, token: str) -> str:
    run_id = start_run(api, "waits/start", {"id": token, "timeout": 60})
    wait_for_history(api, run_id, kind="step.waiting")
    return run_id


def strand(db: str, run_id: str, *, keep_timeout: bool = False) -> None:
    """Delete what would call the waiting run again: a zombie, as a bug would leave it. The
    wait's timeout item alone (`keep_timeout`) would not: it finds no pause to expire."""
    if not keep_timeout:
        assert db_execute(db, "DELETE FROM queue WHERE run_id = %s", run_id) >= 1
    assert db_execute(db, "DELETE FROM pauses WHERE run_id = %s", run_id) == 1


def finish_wait(api: Api, run_id: str, token: str) -> None:
    """The repaired run waits again (the SDK replayed and reported its wait); answer it."""
    wait_until(
        lambda: [h for h in run_history(api, run_id) if h["kind"] == "step.waiting"][1:] or None,
        timeout=10,
        what=f"run {run_id} waiting again after its repair",
    )
    api.send_event("waits/reply", {"id": token})
    run = api.wait_for_run_status(run_id, "Completed", timeout=15)
    assert run["output"]["event"]["data"]["id"] == token, run


def metric(api: Api, name: str) -> float:
    text = api.http.get("/metrics").text
    lines = [line for line in text.splitlines() if line.startswith(name + " ")]
    assert len(lines) == 1, f"{name} not in /metrics"
    return float(lines[0].split()[1])


def test_a_stranded_run_is_found_repaired_and_completes(waits: Stack) -> None:
    api, token = waits.api, uuid.uuid4().hex
    run_id = start_waiting_run(api, token)
    assert run_id not in [z["run_id"] for z in api.zombies()]  # waiting: not a zombie
    strand(waits.server.db, run_id)

    assert [z["run_id"] for z in api.zombies()] == [run_id]
    assert api.zombies(grace=None) == []  # changed just now: within the default grace (60 s)
    before = metric(api, "mainspring_zombie_runs_repaired_total")
    resp = api.http.post("/v1/zombies/repair", params={"grace": 0})
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["repaired"] == [run_id]

    finish_wait(api, run_id, token)
    assert "run.repaired" in [h["kind"] for h in run_history(api, run_id)]
    assert metric(api, "mainspring_zombie_runs_repaired_total") == before + 1
    assert api.data("/v1/health")["zombies"]["repaired_total"] >= 1
    assert "zombie run " + run_id in waits.server.stderr_path.read_text()
    api.assert_no_zombies()


def test_repair_leaves_healthy_runs_alone(waits: Stack) -> None:
    api, token = waits.api, uuid.uuid4().hex
    run_id = start_waiting_run(api, token)
    resp = api.http.post("/v1/zombies/repair", params={"grace": 0})
    assert resp.json()["data"]["repaired"] == []
    api.send_event("waits/reply", {"id": token})
    api.wait_for_run_status(run_id, "Completed", timeout=15)
    assert "run.repaired" not in [h["kind"] for h in run_history(api, run_id)]
    api.assert_no_zombies()


def test_background_check_repairs_without_being_asked(tmp_path: Path) -> None:
    args = ("--zombie-check-interval", "0.5", "--zombie-grace", "1")
    with running_stack(tmp_path, "waits_app", SLUGS, server_args=args) as stack:
        api, token = stack.api, uuid.uuid4().hex
        run_id = start_waiting_run(api, token)
        strand(stack.server.db, run_id, keep_timeout=True)
        wait_for_history(api, run_id, kind="run.repaired", timeout=10)
        finish_wait(api, run_id, token)
        api.assert_no_zombies()


@requires_postgres_dialect()
def test_two_processes_repairing_at_once_repair_once(tmp_path: Path) -> None:
    args = ("--zombie-check-interval", "0")
    with postgres_cluster(tmp_path, "waits_app", SLUGS, 2, server_args=args) as cluster:
        api, token = cluster.apis[0], uuid.uuid4().hex
        run_id = start_waiting_run(api, token)
        strand(cluster.servers[0].db, run_id)

        def repair(other: Api) -> list[str]:
            resp = other.http.post("/v1/zombies/repair", params={"grace": 0})
            assert resp.status_code == 200, resp.text
            repaired: list[str] = resp.json()["data"]["repaired"]
            return repaired

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(repair, cluster.apis))
        assert sorted(map(len, results)) == [0, 1], results
        assert [h["kind"] for h in run_history(api, run_id)].count("run.repaired") == 1
        finish_wait(api, run_id, token)
        api.assert_no_zombies()
