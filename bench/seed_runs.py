"""Bulk-stored runs for the read benchmarks (bench_dashboard.py, bench_rest_api.py).

N runs of 10 functions spread evenly over a time span ending now (90 % Completed, 8 % Failed,
2 % Running), each with its own event (`data` = `{"user_id", "amount"}`) and one step, written
straight into a freshly migrated database with `executemany`: seeding through the SDK would take
longer than the measurement.
"""

from __future__ import annotations

import json
import random
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from ulid import ULID

FUNCTIONS = [f"bench-fn-{i}" for i in range(10)]
DAY_MS = 86_400_000
EVENT_SQL = (
    "INSERT INTO events (internal_id, id, name, data, {user}, ts, v, received_at) VALUES ({p})"
)
RUN_SQL = (
    "INSERT INTO runs (id, function_id, function_slug, event_id, event_ids, status, output, "
    "created_at, started_at, ended_at) VALUES ({p})"
)
STEP_SQL = (
    "INSERT INTO steps (run_id, step_id, seq, name, op, memo, attempts, completed_at) VALUES ({p})"
)
Row = tuple[Any, ...]
Table = tuple[str, int, Sequence[Row]]  # INSERT template, number of columns, rows


def rows(count: int, now: int, span_ms: int) -> Iterator[tuple[Row, Row, Row]]:
    """(event, run, step) rows of `count` runs created over the `span_ms` before `now`."""
    rng = random.Random(7)
    start = now - span_ms
    for i in range(count):
        created = start + (span_ms * i) // count
        run_id = str(ULID.from_timestamp(created / 1000))
        event_id = str(ULID.from_timestamp(created / 1000))
        slug = FUNCTIONS[i % len(FUNCTIONS)]
        roll = rng.random()
        status = "Completed" if roll < 0.90 else "Failed" if roll < 0.98 else "Running"
        ended = None if status == "Running" else created + rng.randint(5, 5_000)
        output = json.dumps({"ok": True} if status == "Completed" else {"message": "boom"})
        data = json.dumps({"user_id": f"u_{i}", "amount": i % 100})
        event = (event_id, f"id-{i}", f"bench/{slug}", data, "{}", created, None, created)
        run = (
            run_id,
            f"fid-{slug}",
            slug,
            event_id,
            json.dumps([event_id]),
            status,
            None if status == "Running" else output,
            created,
            created + 1,
            ended,
        )
        step = (run_id, "s1", 1, "work", "StepRun", '{"data": 1}', 1 + (i % 3 == 0), created + 2)
        yield event, run, step


def migrate(db: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "mainspring", "migrate", "--db", db], check=True, capture_output=True
    )


def bulk_insert(db: str, tables: Sequence[Table]) -> None:
    """Insert every table's rows, then ANALYZE (SQLite file path or PostgreSQL URL)."""
    if db.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(db) as conn, conn.cursor() as cur:
            for sql, width, values in tables:
                cur.executemany(sql.format(user='"user"', p=", ".join(["%s"] * width)), values)
            cur.execute("ANALYZE")
        return
    with sqlite3.connect(db) as conn:
        for sql, width, values in tables:
            conn.executemany(sql.format(user="user", p=", ".join("?" * width)), values)
        conn.execute("ANALYZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
