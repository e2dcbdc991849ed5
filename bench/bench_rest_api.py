"""REST API speed with 100,000 runs stored: `GET /v1/runs` and `/v2/runs` filters, the CEL
`query`, `/v1/events`, `/v1/health`, `/v1/metrics/functions/{id}` and Prometheus `/metrics`.

Seeds a fresh database with a fast bulk insert (not the SDK): N runs of 10 functions over the
last 6 days (90 % Completed, 8 % Failed, 2 % Running), each with its event and one step. Starts
`mainspring dev` on it with no app (nothing executes, retention off), then times each request:
3 warm-ups, then --samples requests one after another. Exit status 1 when a `/v1/runs` or
`/v2/runs` filter's p95 is over --budget-ms (200).

    .venv/bin/python bench/bench_rest_api.py                       # 100,000 runs, SQLite
    .venv/bin/python bench/bench_rest_api.py --db postgresql://postgres@127.0.0.1:5432/bench_rest
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import seed_runs  # noqa: E402  (bulk-stored runs shared with bench_dashboard.py)
from seed_runs import DAY_MS, FUNCTIONS  # noqa: E402

SPAN_MS = 6 * DAY_MS
GATED = "runs"  # requests whose name starts with this are held to the budget


def requests(now: int) -> dict[str, str]:
    day_ago = now - DAY_MS
    return {
        "runs: status=Failed": "/v1/runs?status=Failed&limit=50",
        "runs: function": "/v1/runs?function_id=bench-fn-3&limit=50",
        "runs: function+status": "/v1/runs?function_id=bench-fn-3&status=Failed&limit=50",
        "runs: app+status": "/v1/runs?app_id=bench&status=Failed&limit=50",
        "runs: status list": "/v1/runs?status=Failed,Cancelled&limit=50",
        "runs: last 24 h, page 2 (cursor)": f"/v1/runs?started_after={day_ago}&limit=50&cursor=",
        "runs: v2 CEL query, 1 in 10 match": "/v2/runs?limit=50&query="
        + quote("event.data.amount < 10"),
        "runs: v2 CEL query + function + status": "/v2/runs?function_id=bench-fn-3&status=Failed"
        + "&limit=20&query="
        + quote("event.data.amount > 50"),
        "events: by name": "/v1/events?name=bench/bench-fn-3&limit=50",
        "health: /v1/health": "/v1/health",
        "metrics: /v1/metrics/functions (24 h)": "/v1/metrics/functions/bench-fn-3?hours=24",
        "metrics: /v1/metrics/functions (7 d)": "/v1/metrics/functions/bench-fn-3?hours=168",
        "metrics: Prometheus /metrics": "/metrics",
    }


APP_SQL = "INSERT INTO apps (id, name, url, created_at) VALUES ({p})"
FUNCTION_SQL = "INSERT INTO functions (id, app_id, slug, name, config, updated_at) VALUES ({p})"


def function_config(slug: str) -> str:
    url = "http://127.0.0.1:1/api/inngest"
    return json.dumps(
        {
            "id": slug,
            "name": slug,
            "triggers": [{"event": f"bench/{slug}"}],
            "steps": {"step": {"id": "step", "name": "step", "runtime": {"url": url}}},
        }
    )


def fill(db: str, count: int, now: int) -> float:
    """Bulk insert; returns the seconds it took."""
    seed_runs.migrate(db)
    started = time.perf_counter()
    data = list(seed_runs.rows(count, now, SPAN_MS))
    apps = [("app-bench", "bench", "http://127.0.0.1:1/api/inngest", now)]
    functions = [(f"fid-{s}", "app-bench", s, s, function_config(s), now) for s in FUNCTIONS]
    tables = [
        (seed_runs.EVENT_SQL, 8, [d[0] for d in data]),
        (seed_runs.RUN_SQL, 10, [d[1] for d in data]),
        (seed_runs.STEP_SQL, 8, [d[2] for d in data]),
        (APP_SQL, 4, apps),
        (FUNCTION_SQL, 6, functions),
    ]
    seed_runs.bulk_insert(db, tables)
    return time.perf_counter() - started


def fresh_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def time_requests(client: httpx.Client, paths: dict[str, str], samples: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, path in paths.items():
        if path.endswith("cursor="):  # page 2: take the cursor from page 1
            first = client.get(path.removesuffix("&cursor="))
            path += first.json()["metadata"]["cursor"]
        for _ in range(3):
            assert client.get(path).status_code == 200, (path, client.get(path).text[:300])
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text[:300]
        times.sort()
        results[name] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
            "max_ms": round(times[-1], 2),
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--budget-ms", type=float, default=200.0)
    parser.add_argument("--db", help="postgresql://… (recreated); default: a temp SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-rest-"))
    db = args.db or str(workdir / "bench.db")
    if args.db:
        fresh_postgres(db)
    now = int(time.time() * 1000)
    seeded = fill(db, args.runs, now)
    print(f"seeded {args.runs:,} runs (+ events, steps) in {seeded:.1f} s into {db}")

    port = seed_runs.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAINSPRING_")}
    env.update(MAINSPRING_RETENTION="off", PYTHONUNBUFFERED="1")
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "mainspring", "dev", "--db", db, "--port", str(port),
         "--no-discovery", "--no-poll"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start; see " + str(workdir / "server.log"))
                time.sleep(0.2)
            results = time_requests(client, requests(now), args.samples)
    finally:
        server.terminate()
        server.wait(30)
    width = max(len(name) for name in results)
    print(f"{'request':<{width}}  p50 ms  p95 ms  max ms")
    over = []
    for name, figures in results.items():
        p50, p95, top = figures["p50_ms"], figures["p95_ms"], figures["max_ms"]
        print(f"{name:<{width}}  {p50:>6}  {p95:>6}  {top:>6}")
        if name.startswith(GATED) and figures["p95_ms"] > args.budget_ms:
            over.append(name)
    dialect = "postgres" if args.db else "sqlite"
    print(json.dumps({"dialect": dialect, "runs": args.runs, "results": results}))
    if over:
        print(f"over the {args.budget_ms:.0f} ms budget: {', '.join(over)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
