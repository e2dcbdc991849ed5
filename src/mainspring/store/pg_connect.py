"""Opening a PostgreSQL connection the way every thread of ours does: autocommit, rows as
dicts, named in `pg_stat_activity`, and with TCP keepalives."""

from __future__ import annotations

import os
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

CONNECT_TIMEOUT_S = 5
# A connection whose peer vanished without a word (a cut cable, a frozen host) would block a
# thread for the kernel's default of many minutes: keepalives and a send timeout end it in ~10 s.
TCP_OPTIONS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


def application_name(role: str) -> str:
    """`mainspring/<pid>/<role>` in `pg_stat_activity`: which process and which of its threads
    holds a connection (operators, and the chaos tests that terminate one at a time)."""
    return f"mainspring/{os.getpid()}/{role}"


def connect(
    url: str, role: str = "admin", synchronous_commit: str | None = None
) -> psycopg.Connection[dict[str, Any]]:
    """`synchronous_commit`, when the operator's `--durability` asks for one, is set for the
    session in the startup packet: no statement per transaction."""
    options = conninfo_to_dict(url).get("options") or ""
    if synchronous_commit is not None:
        options = f"{options} -c synchronous_commit={synchronous_commit}".strip()
    return psycopg.connect(
        url,
        options=options or None,
        autocommit=True,
        row_factory=dict_row,
        connect_timeout=CONNECT_TIMEOUT_S,
        application_name=application_name(role),
        **TCP_OPTIONS,
    )
