"""Page speed with 100,000 runs stored: the Runs page, its fragments, `GET /v1/runs` filters and
the charts (function page, Operations, their live fragments and stats JSON, hour/day/week).

Fills a fresh database (SQLite file, or PostgreSQL with --db postgresql://…) with N runs of 10
functions over the last 7 days (90 % Completed, 8 % Failed, 2 % Running), each with its event,
the 10 functions' registry rows and the charts' per-minute rollups of those runs, starts
`mainspring dev` on it (no app: nothing executes) and times each request: 3 warm-ups, then
--samples timed requests one after another. Exit status 1 when a p95 is over the budget (200 ms).

    .venv/bin/python bench/bench_dashboard.py                  # 100,000 runs, SQLite
    .venv/bin/python bench/bench_dashboard.py --runs 1000000 --only charts
    .venv/bin/python bench/bench_dashboard.py --db postgresql://postgres@127.0.0.1:5432/bench_dash
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import seed_runs  # noqa: E402  (bulk-stored runs shared with bench_rest_api.py)

REQUESTS = {
    "Runs page, no filter": "/runs",
    "Runs page, status=Failed": "/runs?status=Failed",
    "Runs page, function": "/runs?function_id=bench-fn-3",
    "Runs page, function+status": "/runs?function_id=bench-fn-3&status=Failed",
    "Runs page, time range": "/runs?started_after={from_}&started_before={to}",
    "Runs page, CEL query, no match (bounded scan)": "/runs?function_id=bench-fn-3&query="
    + "event.data.amount%20%3E%2098",
    "Runs page, CEL query, 1 in 10 match": "/runs?query=event.data.amount%20%3C%2010",
    "Runs rows fragment (live poll)": "/ui/runs/rows",
    "Events page (50 events with their runs)": "/events",
    "Functions page": "/functions",
    "Operations page (health, alerts, dead letters)": "/operations",
    "GET /v1/runs?status=Failed": "/v1/runs?status=Failed&limit=50",
    "GET /v1/runs?function_id=…": "/v1/runs?function_id=bench-fn-3&limit=50",
    "GET /v1/runs?function_id=…&status=Failed": "/v1/runs?function_id=bench-fn-3&status=Failed"
    + "&limit=50",
}
CHARTS = {
    "Function page, charts of the hour": "/functions/bench-fn-3",
    "Function page, charts of the day": "/functions/bench-fn-3?window=day",
    "Function page, charts of the week": "/functions/bench-fn-3?window=week",
    "Function charts fragment, week (live poll)": "/ui/functions/bench-fn-3/charts?window=week",
    "GET /v1/functions/{id}/stats?window=week": "/v1/functions/bench-fn-3/stats?window=week",
    "Operations page, charts of the hour": "/operations",
    "Operations charts fragment, week (live poll)": "/ui/operations/charts?window=week",
    "GET /v1/operations/stats?window=week": "/v1/operations/stats?window=week",
}


def fill(db: str, count: int, now: int) -> None:
    """Runs and their events over the last 7 days, the functions, the charts' rollups."""
    seed_runs.migrate(db)
    data = list(seed_runs.rows(count, now, 7 * seed_runs.DAY_MS))
    runs = [r for _, r, _ in data]
    seed_runs.bulk_insert(
        db,
        [
            (seed_runs.EVENT_SQL, 8, [e for e, _, _ in data]),
            (seed_runs.RUN_SQL, 10, runs),
            *seed_runs.registry(now),
            *seed_runs.rollups(runs, now),
        ],
    )


def measure(client: httpx.Client, path: str, samples: int) -> list[float]:
    for _ in range(3):
        client.get(path).raise_for_status()
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        answer.raise_for_status()
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--budget-ms", type=float, default=200.0)
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite file)")
    parser.add_argument(
        "--only", choices=("all", "runs", "charts"), default="all", help="which pages to time"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    db = args.db or str(workdir / "dash.db")
    now = int(time.time() * 1000)
    began = time.perf_counter()
    fill(db, args.runs, now)
    print(f"stored {args.runs:,} runs + events in {time.perf_counter() - began:.1f} s ({db})")
    port = seed_runs.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAINSPRING_", "INNGEST_"))}
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mainspring",
            "dev",
            "--port",
            str(port),
            "--db",
            db,
            "--no-discovery",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    failed = False
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start; see " + str(workdir / "server.log"))
            time.sleep(0.1)
        day = 86_400
        window = {
            "from_": time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now / 1000 - 3 * day)),
            "to": time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now / 1000 - 2 * day)),
        }
        print(f"{'request':45} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        chosen = {"all": {**REQUESTS, **CHARTS}, "runs": REQUESTS, "charts": CHARTS}[args.only]
        for label, path in chosen.items():
            times = measure(client, path.format(**window), args.samples)
            p95 = sorted(times)[max(int(0.95 * len(times)) - 1, 0)]
            mark = "" if p95 < args.budget_ms else "  OVER BUDGET"
            failed |= bool(mark)
            print(f"{label:45} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}{mark}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        if args.db is None and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
