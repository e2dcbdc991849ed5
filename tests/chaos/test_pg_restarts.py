"""PostgreSQL restarted under load, 10 times in a row (`pg_ctlcluster … restart -m fast`).

Every test that restarts or stops the PostgreSQL server belongs in this file: `make test` runs it
alone, after the parallel passes (with the outage test), because a restart cuts every other
test's connections too.

Two servers on one database, events arriving all along. After each restart, each server alone
must accept an event and complete its run (a server whose writer or leaser thread died cannot:
the issue's `cannot exit pipeline mode while busy`). Throughout, /health is watched next to a
probe of the database: a server answering 200 more than HEALTH_DEADLINE into an outage lies.
Afterwards: every accepted event has exactly one Completed run, re-runs stay within the
in-flight bound, and no thread or task died outside the supervisor.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from integration.harness import (
    ServerProcess,
    postgres_cluster,
    requires_postgres_dialect,
    wait_until,
)
from integration.pg_control import controlled_cluster, ensure_pg_running, pg_ctl, pg_up

from .load import (
    EventSender,
    Fault,
    check_outputs,
    check_reruns,
    health_status,
    serves_alone,
    wait_all_completed,
)
from .observe import DbWatch, HealthWatch, health_verdict, log_failure_report

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]

SLUG = "chaos-three"
SERVERS = 2
RESTARTS = 10
BACKGROUND_EVENTS = 300
SEND_SECONDS = 25.0
PROBE_BASE = 10_000
LEASE_SECONDS = 3
MAX_IN_FLIGHT = 6
RECOVERY_BOUND = 15.0
SERVER_ARGS = ["--lease-seconds", str(LEASE_SECONDS), "--max-in-flight", str(MAX_IN_FLIGHT)]


@pytest.fixture
def cluster() -> Iterator[list[str]]:
    with controlled_cluster() as command:
        yield command


def test_postgres_restarted_ten_times_under_load(
    cluster: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp("pg_restarts")
    with postgres_cluster(workdir, "chaos_app", [SLUG], SERVERS, server_args=SERVER_ARGS) as stack:
        servers, urls = stack.servers, lambda: [s.url for s in stack.servers]
        sender = EventSender(urls, "chaos/three")
        background = threading.Thread(
            target=sender.send_paced, args=(BACKGROUND_EVENTS, 5, SEND_SECONDS), daemon=True
        )
        faults: list[Fault] = []
        recoveries: list[float] = []
        with HealthWatch(urls) as health, DbWatch(servers[0].db) as db:
            background.start()
            for n in range(RESTARTS):
                time.sleep(random.uniform(0.1, 0.5))
                began = time.monotonic()
                try:
                    pg_ctl(cluster, "restart", "-m", "fast")
                finally:
                    ensure_pg_running(cluster)
                assert pg_up()
                with ThreadPoolExecutor(SERVERS) as pool:
                    checks = [
                        pool.submit(serving_again, k, s, sender, n) for k, s in enumerate(servers)
                    ]
                    for check in checks:
                        check.result()
                ended = time.monotonic()
                recoveries.append(ended - began)
                faults.append(Fault("restart -m fast", began, ended, servers_hit=SERVERS))
            background.join(timeout=60)
            runs = wait_all_completed(urls, SLUG, len(sender.accepted))
        check_outputs(runs, sender.accepted)
        reruns = check_reruns(stack.sidefx.read(), faults, MAX_IN_FLIGHT)
        report = log_failure_report([s.stderr_path for s in servers])
        assert not report, report
        windows = db.down_windows()
        verdicts = [health_verdict(health.of(k), windows) for k in range(SERVERS)]
        for k, verdict in enumerate(verdicts):
            assert verdict.longest_lie == 0, f"server{k} /health lied: {verdict}"
            assert not verdict.outages_unnoticed, f"server{k} /health missed outages: {verdict}"
        print(
            f"{RESTARTS} restarts; database down {[round(e - b, 2) for b, e in windows]}s; "
            f"each server serving again after {[round(r, 1) for r in recoveries]}s; "
            f"{len(sender.accepted)} events, {sender.resends} resends; {reruns} bodies re-ran "
            f"(bound {RESTARTS * SERVERS * MAX_IN_FLIGHT}); /health after the database was back: "
            f"{[round(v.longest_degraded_after, 2) for v in verdicts]}s of 503 at most"
        )


def serving_again(k: int, server: ServerProcess, sender: EventSender, restart: int) -> None:
    """After restart number `restart`, server `k` alone accepts and completes an event, and
    its /health says 200 again."""
    number = PROBE_BASE + restart * 100 + k
    try:
        serves_alone(server.url, sender, number, within=RECOVERY_BOUND)
        wait_until(
            lambda: True if health_status(server.url) == 200 else None,
            timeout=RECOVERY_BOUND,
            what="/health 200 again",
        )
    except AssertionError as exc:
        why = log_failure_report([server.stderr_path]) or server.log_tail()
        raise AssertionError(f"restart {restart + 1}, server{k}: {exc}\n{why}") from None
