"""kill -9 a server every few seconds under load, and restart it.

PostgreSQL: three servers on one database; SQLite: one server, restarted on the same file. While
300 events arrive (resent elsewhere or later on a refused or failed POST, as SDKs do), a random
server is killed with SIGKILL every 2-4 s and started again. Afterwards: every accepted event
has exactly one Completed run with the right output; a step body ran twice only where one of its
executions was in flight at a kill, and at most kills x --max-in-flight of them; no server log
shows a thread or task that died outside the supervisor; every server's /health answers 200.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from integration.harness import (
    ServerProcess,
    SideEffects,
    postgres_cluster,
    running_stack,
    server_dialect,
)

from .load import EventSender, Fault, check_outputs, check_reruns, wait_all_completed
from .observe import log_failure_report

pytestmark = [pytest.mark.slow]

SLUG = "chaos-three"
EVENTS = 300
BATCH = 10
SEND_SECONDS = 10.0
KILLING_SECONDS = 13.0  # kills go on a little past the last event, while its steps run
KILL_GAP = (2.0, 4.0)
LEASE_SECONDS = 3
MAX_IN_FLIGHT = 6
STEP_SECONDS = 0.1
SERVER_ARGS = ["--lease-seconds", str(LEASE_SECONDS), "--max-in-flight", str(MAX_IN_FLIGHT)]
APP_ENV = {"CHAOS_STEP_SECONDS": str(STEP_SECONDS)}


def test_kill9_loop_loses_nothing(tmp_path_factory: pytest.TempPathFactory) -> None:
    workdir = tmp_path_factory.mktemp("kill_loop")
    if server_dialect() == "postgres":
        with postgres_cluster(
            workdir, "chaos_app", [SLUG], 3, server_args=SERVER_ARGS, app_env=APP_ENV
        ) as cluster:
            kill_loop(cluster.servers, cluster.sidefx, workdir)
    else:
        with running_stack(
            workdir, "chaos_app", [SLUG], server_args=SERVER_ARGS, app_env=APP_ENV
        ) as stack:
            kill_loop([stack.server], stack.sidefx, workdir)


def kill_loop(servers: list[ServerProcess], sidefx: SideEffects, workdir: Path) -> None:
    sender = EventSender(lambda: [s.url for s in servers], "chaos/three")
    sending = threading.Thread(
        target=sender.send_paced, args=(EVENTS, BATCH, SEND_SECONDS), daemon=True
    )
    started = time.monotonic()
    sending.start()
    faults: list[Fault] = []
    restart_seconds: list[float] = []
    while time.monotonic() - started < KILLING_SECONDS:
        time.sleep(random.uniform(*KILL_GAP))
        k = random.randrange(len(servers))
        began = time.monotonic()
        servers[k].kill()
        faults.append(Fault("kill -9", began, time.monotonic(), detail=f"server{k}"))
        servers[k].start(timeout=30)
        restart_seconds.append(time.monotonic() - began)
    sending.join(timeout=90)
    assert not sending.is_alive(), "the sender did not finish"
    assert sender.accepted == set(range(EVENTS))

    runs = wait_all_completed(lambda: [s.url for s in servers], SLUG, EVENTS)
    done = time.monotonic()
    check_outputs(runs, sender.accepted)
    reruns = check_reruns(sidefx.read(), faults, MAX_IN_FLIGHT)
    report = log_failure_report([s.stderr_path for s in servers])
    assert not report, report
    for server in servers:
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    print(
        f"{len(servers)} server(s), {EVENTS} events ({sender.resends} resends), "
        f"{len(faults)} kills, restart took {min(restart_seconds):.1f}-"
        f"{max(restart_seconds):.1f}s, all completed {done - started:.1f}s after the first "
        f"event; {reruns} step bodies re-ran (bound {len(faults) * MAX_IN_FLIGHT})"
    )
