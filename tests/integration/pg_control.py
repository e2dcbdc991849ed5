"""Control of the local PostgreSQL cluster and of single server connections, for fault tests.

Shared by the outage test, the chaos suite (`tests/chaos/`) and `bench/soak.py`. Stopping or
restarting the cluster is only possible for a local cluster managed by `pg_ctlcluster`, as root;
`find_cluster_command()` says why not otherwise, `cluster_command()` skips the calling test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from .harness import postgres_databases, postgres_test_url, wait_until

PG_CLUSTER_DIR = Path("/etc/postgresql")


def find_cluster_command(url: str) -> tuple[list[str] | None, str]:
    """`pg_ctlcluster --skip-systemctl-redirect <version> main` for `url`'s cluster, or why not."""
    host = urllib.parse.urlsplit(url).hostname or "localhost"
    if host not in {"127.0.0.1", "localhost", "::1"}:
        return None, f"PostgreSQL at {host} is not a local cluster this process may stop"
    if shutil.which("pg_ctlcluster") is None or not PG_CLUSTER_DIR.is_dir():
        return None, "pg_ctlcluster / /etc/postgresql not found: cannot stop PostgreSQL"
    versions = sorted(os.listdir(PG_CLUSTER_DIR))
    if len(versions) != 1:
        return None, f"expected one PostgreSQL version in {PG_CLUSTER_DIR}, found {versions}"
    if os.geteuid() != 0:
        return None, "stopping the cluster with pg_ctlcluster needs root"
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main"], ""


def cluster_command() -> list[str]:
    """The cluster command for the test PostgreSQL, or skip the calling test."""
    command, reason = find_cluster_command(postgres_test_url())
    if command is None:
        pytest.skip(reason)
    return command


def pg_ctl(cluster: list[str], action: str, *extra: str) -> None:
    """`pg_ctlcluster … <action> [extra]` (e.g. `restart -m fast`); fails loudly on error."""
    result = subprocess.run(
        [*cluster, action, *extra], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"{' '.join(cluster)} {action}: {result.stdout}{result.stderr}"


def pg_up(url: str | None = None, *, timeout: int = 2) -> bool:
    """Whether PostgreSQL accepts a connection and answers `SELECT 1` now."""
    try:
        with psycopg.connect(url or postgres_test_url(), connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def ensure_pg_running(cluster: list[str]) -> None:
    """Start the cluster if it is down and wait until it accepts connections."""
    if not pg_up():
        subprocess.run([*cluster, "start"], capture_output=True, timeout=60, check=False)
    wait_until(lambda: True if pg_up() else None, timeout=60, what="PostgreSQL to accept again")


@contextlib.contextmanager
def controlled_cluster() -> Iterator[list[str]]:
    """The cluster command for a test that stops or restarts PostgreSQL (skipped when it may
    not); whatever happens in the block, PostgreSQL is left running."""
    postgres_databases()  # unreachable: skip loudly (fail under CI=true) before touching it
    command = cluster_command()
    ensure_pg_running(command)
    try:
        yield command
    finally:
        ensure_pg_running(command)


def application_name(server_pid: int, role: str) -> str:
    """The `application_name` a server sets on its connection for `role` (e.g. `writer-0`)."""
    return f"mainspring/{server_pid}/{role}"


def server_connections(db_url: str, server_pid: int) -> dict[str, int]:
    """Backend pid of each connection of the server process `server_pid`, by role."""
    prefix = f"mainspring/{server_pid}/"
    with psycopg.connect(db_url, autocommit=True, connect_timeout=3) as conn:
        rows = conn.execute(
            "SELECT application_name, pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE %s",
            (prefix + "%",),
        ).fetchall()
    return {str(name)[len(prefix) :]: int(pid) for name, pid in rows}


def terminate_connection(db_url: str, server_pid: int, role: str) -> int:
    """`pg_terminate_backend` on the connection(s) of one role of one server: how many."""
    with psycopg.connect(db_url, autocommit=True, connect_timeout=3) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            (application_name(server_pid, role),),
        ).fetchall()
    return sum(1 for (done,) in rows if done)
