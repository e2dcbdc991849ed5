"""`pg_terminate_backend` on each connection of each server in turn, at random moments, under load.

Two servers on one PostgreSQL database. Each server names its connections
`mainspring/<pid>/<role>` (`application_name`), so one connection of one server can be cut while
the other connections and the other server go on. For every role (writer, leaser, listener,
readers) of every server, at a random moment while events arrive and runs step: terminate it,
then the server must answer /health 200 again, accept an event itself and see it completed.
Afterwards: nothing lost or run twice, re-runs only where a call was in flight at a fault, no
thread or task died outside the supervisor, and every restart the log reports shows in the
server's /health `components` restart counts. Only this database's connections are touched, so
this test runs beside others (not in the PostgreSQL restart file).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import httpx
import pytest

from integration.harness import (
    ServerProcess,
    postgres_cluster,
    requires_postgres_dialect,
    wait_until,
)
from integration.pg_control import server_connections, terminate_connection

from .load import (
    EventSender,
    Fault,
    check_outputs,
    check_reruns,
    health_status,
    serves_alone,
    wait_all_completed,
)
from .observe import HealthWatch, log_failure_report, supervisor_restarts

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]

SLUG = "chaos-three"
ROLES = ("writer-0", "leaser", "listener", "reader-0", "reader-1")
SERVERS = 2
BACKGROUND_EVENTS = 150
SEND_SECONDS = 20.0
PROBE_BASE = 10_000  # numbers of the events each faulted server must accept and complete
LEASE_SECONDS = 3
MAX_IN_FLIGHT = 6
RECOVERY_BOUND = 10.0
SERVER_ARGS = ["--lease-seconds", str(LEASE_SECONDS), "--max-in-flight", str(MAX_IN_FLIGHT)]


def test_terminate_each_connection_in_turn(tmp_path_factory: pytest.TempPathFactory) -> None:
    workdir = tmp_path_factory.mktemp("pg_terminate")
    with postgres_cluster(
        workdir, "chaos_app", [SLUG], SERVERS, server_args=SERVER_ARGS
    ) as cluster:
        servers, sidefx = cluster.servers, cluster.sidefx
        db_url = servers[0].db
        for server in servers:
            roles = set(server_connections(db_url, server.pid))
            assert roles >= set(ROLES), f"server {server.pid} names connections {sorted(roles)}"
        sender = EventSender(lambda: [s.url for s in servers], "chaos/three")
        background = threading.Thread(
            target=sender.send_paced, args=(BACKGROUND_EVENTS, 5, SEND_SECONDS), daemon=True
        )
        faults: list[Fault] = []
        with HealthWatch(lambda: [s.url for s in servers]) as health:
            background.start()
            for n, (k, role) in enumerate((k, r) for r in ROLES for k in range(SERVERS)):
                time.sleep(random.uniform(0.2, 1.5))
                faults.append(cut_and_recover(servers[k], k, role, db_url, sender, PROBE_BASE + n))
            background.join(timeout=60)
            runs = wait_all_completed(lambda: [s.url for s in servers], SLUG, len(sender.accepted))
        check_outputs(runs, sender.accepted)
        reruns = check_reruns(sidefx.read(), faults, MAX_IN_FLIGHT)
        report = log_failure_report([s.stderr_path for s in servers])
        assert not report, report
        degraded = Counter(s.server for s in health.samples if s.status == 503)
        for server in servers:
            check_restarts_reported(server)
        print(
            f"{len(faults)} connections terminated; recovery "
            f"{[round(f.ended - f.began, 2) for f in faults]}s; {reruns} bodies re-ran; "
            f"/health 503 samples per server {dict(degraded)}; restarts "
            f"{[dict(supervisor_restarts(s.stderr_path)) for s in servers]}"
        )


def cut_and_recover(
    server: ServerProcess, k: int, role: str, db_url: str, sender: EventSender, number: int
) -> Fault:
    """Terminate `role`'s connection of `server`; then that server alone must accept an event
    and complete its run, and answer /health 200, within RECOVERY_BOUND."""
    began = time.monotonic()
    cut = terminate_connection(db_url, server.pid, role)
    assert cut == 1, f"server{k} had {cut} connection(s) named for {role}"
    try:
        serves_alone(server.url, sender, number, within=RECOVERY_BOUND)
    except AssertionError as exc:
        why = log_failure_report([server.stderr_path]) or server.log_tail()
        raise AssertionError(
            f"after terminating server{k}'s {role} connection: {exc}\n{why}"
        ) from None
    wait_until(
        lambda: True if health_status(server.url) == 200 else None,
        timeout=RECOVERY_BOUND,
        what=f"server{k} /health 200 after its {role} connection was terminated",
        on_timeout=server.log_tail,
    )
    return Fault("pg_terminate_backend", began, time.monotonic(), detail=f"server{k}/{role}")


def check_restarts_reported(server: ServerProcess) -> None:
    """Every component the log says the supervisor restarted shows restarts in /health."""
    logged = supervisor_restarts(server.stderr_path)
    components = httpx.get(f"{server.url}/health", timeout=5.0).json().get("components", {})
    for name, count in logged.items():
        shown = int((components.get(name) or {}).get("restarts", 0))
        assert shown >= count, f"log: {name} restarted {count}x, /health says {shown}"
