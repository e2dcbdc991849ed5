"""Bulk-stored runs for the read benchmarks (bench_dashboard.py, bench_rest_api.py).

N runs of 10 functions spread evenly over a time span ending now (90 % Completed, 8 % Failed,
2 % Running), each with its own event (`data` = `{"user_id", "amount"}`) and one step, written
straight into a freshly migrated database with `executemany`: seeding through the SDK would take
longer than the measurement.

`registry()` adds the app and its 10 functions (so their pages exist) and `rollups()` the charts'
per-minute rollups of the same runs, computed by the server's own aggregation
(`operations.rollups`), so the charts agree with the runs (the step `work` takes half the run).
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
APP_SQL = "INSERT INTO apps (id, name, url, sdk, framework, created_at) VALUES ({p})"
FUNCTION_SQL = "INSERT INTO functions (id, app_id, slug, name, config, updated_at) VALUES ({p})"
ROLLUP_COLUMNS = {
    "rollup_functions": (
        "function_slug",
        "span_ms",
        "minute",
        "started",
        "completed",
        "failed",
        "cancelled",
        "durations",
    ),
    "rollup_steps": (
        "function_slug",
        "step_name",
        "span_ms",
        "minute",
        "completed",
        "failed",
        "errors",
        "durations",
    ),
    "rollup_system": (
        "span_ms",
        "minute",
        "queue_depth",
        "ready",
        "ready_lag_ms",
        "in_flight",
        "dead_letters",
    ),
}
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


def registry(now: int) -> list[Table]:
    """The bench app and its functions, as a sync would have stored them."""
    url = "http://127.0.0.1:9/api/inngest"
    functions = []
    for slug in FUNCTIONS:
        step = {"id": "step", "name": "step", "runtime": {"type": "http", "url": url}}
        config = {"id": slug, "name": slug, "triggers": [{"event": f"bench/{slug}"}]}
        config["steps"] = {"step": step}
        functions.append((f"fid-{slug}", "bench-app", slug, slug, json.dumps(config), now))
    return [
        (APP_SQL, 6, [("bench-app", "bench", url, "py:inngest", "fastapi", now)]),
        (FUNCTION_SQL, 6, functions),
    ]


def rollups(runs: Sequence[Row], now: int) -> list[Table]:
    """Minute and hour rollups of `runs` (RUN_SQL rows), one system sample per minute."""
    from mainspring.operations import histogram
    from mainspring.operations.rollups import MINUTE_MS, function_minutes, merge_hours, minute_of

    started: dict[tuple[str, int], int] = {}
    ended = []
    steps: dict[tuple[str, int], list[Any]] = {}
    for run in runs:
        slug, status, created, began, end = run[2], run[5], run[7], run[8], run[9]
        key = (slug, minute_of(created))
        started[key] = started.get(key, 0) + 1
        if end is None:
            continue
        ended.append(
            {"function_slug": slug, "status": status, "started_at": began, "ended_at": end}
        )
        step = steps.setdefault((slug, minute_of(end)), [0, 0, {}])
        step[0 if status == "Completed" else 1] += 1
        histogram.add(step[2], (end - began) // 2)
    started_rows = [{"function_slug": s, "minute": m, "n": n} for (s, m), n in started.items()]
    minute = {"span_ms": MINUTE_MS}
    functions = [
        {
            "function_slug": s,
            "minute": m,
            **minute,
            "started": f.started,
            "completed": f.completed,
            "failed": f.failed,
            "cancelled": f.cancelled,
            "durations": histogram.dumps(f.durations),
        }
        for (s, m), f in function_minutes(started_rows, ended).items()
    ]
    step_rows = [
        {
            "function_slug": s,
            "step_name": "work",
            "minute": m,
            **minute,
            "completed": done,
            "failed": failed,
            "errors": 0,
            "durations": histogram.dumps(hist),
        }
        for (s, m), (done, failed, hist) in steps.items()
    ]
    first = minute_of(min((run[7] for run in runs), default=now))
    system = [
        {
            "minute": at,
            **minute,
            "queue_depth": i % 50,
            "ready": i % 7,
            "ready_lag_ms": (i % 13) * 100,
            "in_flight": i % 5,
            "dead_letters": i % 40,
        }
        for i, at in enumerate(range(first, now, MINUTE_MS))
    ]
    hourly = merge_hours(functions, step_rows, system)
    tables = []
    for (table, columns), minutes, hours in zip(
        ROLLUP_COLUMNS.items(), (functions, step_rows, system), hourly, strict=True
    ):
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({{p}})"
        values = [tuple(row[c] for c in columns) for row in [*minutes, *hours]]
        tables.append((sql, len(columns), values))
    return tables


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
