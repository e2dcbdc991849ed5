"""Flow-control benchmark (issue 6). Two measurements:

1. **Leasing under concurrency keys** (both stores): a backlog of ``--items`` queued calls
   (10,000) either without limits or spread over ``--keys`` (1,000) concurrency keys with
   limit 1. The worker's own lease (``store/repos/flow.py: lease``) takes ``--lease-size``
   (100) items per transaction and a second transaction finishes them (deletes), as a worker
   whose calls return at once would; wall time until the backlog is empty gives items/s.
   The issue's bar: with keys, throughput within 1.5x of the same backlog without limits.
2. **Throttle rate** (SQLite, end to end): a real server and a real Python SDK app whose function
   has ``throttle: {limit: 10, period: 1s}``; ``--throttle-events`` events are sent at once and
   the server's ``run_started_at`` of every run gives the rate over ``--throttle-seconds`` (60).
   The bar: within 2 % of the configured rate.

Usage (repository root)::

    .venv/bin/python bench/bench_flow.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--skip-throttle] [--out bench/results/flow-<ts>.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from mainspring.domain.ids import new_ulid
from mainspring.domain.queue import Kind
from mainspring.store import open_connector
from mainspring.store.base import Tx
from mainspring.store.repos import flow as flow_repo
from mainspring.store.repos import queue as queue_repo

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
T0 = 1_800_000_000_000


# ---- 1. leasing -------------------------------------------------------------------------------


def _fill(tx: Tx, start: int, count: int, keys: int) -> None:
    for index in range(start, start + count):
        run_id = new_ulid()
        if keys:
            flow_repo.set_run_slots(tx, run_id, ((f"fn:bench:{index % keys}", 1),))
        queue_repo.enqueue(
            tx, kind=Kind.CALL, run_id=run_id, available_at=T0 + index, now=T0, dedupe_key=None
        )


async def lease_throughput(url: str, items: int, keys: int, lease_size: int) -> dict[str, Any]:
    connector = open_connector(url)
    try:
        for start in range(0, items, 1000):
            await connector.write(lambda tx, s=start: _fill(tx, s, min(1000, items - s), keys))
        now = T0 + items + 1
        leased_total, leases = 0, 0
        began = time.perf_counter()
        while True:

            def lease(tx: Tx) -> list[str]:
                got = flow_repo.lease(
                    tx, owner="bench", now=now, lease_until=now + 60_000, limit=lease_size
                )
                return [item.id for item in got.items]

            ids = await connector.write(lease)
            if not ids:
                break
            leases += 1
            leased_total += len(ids)

            def finish(tx: Tx, done: list[str] = ids) -> None:
                for item_id in done:
                    queue_repo.delete(tx, item_id)

            await connector.write(finish)
        elapsed = time.perf_counter() - began
    finally:
        await connector.close()
    return {
        "items": leased_total,
        "keys": keys,
        "leases": leases,
        "seconds": round(elapsed, 3),
        "items_per_s": round(leased_total / elapsed, 1),
    }


def fresh_pg(admin_url: str) -> tuple[str, str]:
    name = f"ms_bench_flow_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run(
        [sys.executable, "-m", "mainspring", "migrate", "--db", url],
        check=True,
        capture_output=True,
    )
    return name, url


def drop_pg(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_leasing(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    stores = ["sqlite"] + (["postgres"] if args.pg else [])
    for store in stores:
        per: dict[str, Any] = {}
        for label, keys in (("no_limits", 0), ("keyed", args.keys)):
            if store == "sqlite":
                url = str(workdir / f"lease-{label}.db")
                per[label] = asyncio.run(lease_throughput(url, args.items, keys, args.lease_size))
            else:
                name, url = fresh_pg(args.pg)
                try:
                    per[label] = asyncio.run(
                        lease_throughput(url, args.items, keys, args.lease_size)
                    )
                finally:
                    drop_pg(args.pg, name)
        per["slowdown"] = round(per["no_limits"]["items_per_s"] / per["keyed"]["items_per_s"], 3)
        results[store] = per
        print(f"[lease] {store}: {json.dumps(per)}", flush=True)
    return results


# ---- 2. throttle rate ---------------------------------------------------------------------------

THROTTLE_APP = """
import datetime, fastapi, inngest, inngest.fast_api
client = inngest.Inngest(app_id="benchflow", is_production=False)

@client.create_function(
    fn_id="throttled",
    throttle=inngest.Throttle(limit=LIMIT, period=datetime.timedelta(seconds=1)),
    trigger=inngest.TriggerEvent(event="bench/throttled"),
)
async def throttled(ctx: inngest.Context) -> str:
    return "ok"

app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [throttled])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _instant(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def bench_throttle(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    app_dir = workdir / "throttle_app"
    app_dir.mkdir()
    (app_dir / "throttle_app.py").write_text(THROTTLE_APP.replace("LIMIT", str(args.rate)))
    server_port, app_port = free_port(), free_port()
    server_url = f"http://127.0.0.1:{server_port}"
    app_url = f"http://127.0.0.1:{app_port}/api/inngest"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNGEST_", "MAINSPRING_"))}
    app_env = {**env, "INNGEST_DEV": "1", "INNGEST_BASE_URL": server_url}
    procs = []
    log = (workdir / "throttle.log").open("w")
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "throttle_app:app",
                    "--port",
                    str(app_port),
                    "--log-level",
                    "warning",
                ],
                cwd=app_dir,
                env=app_env,
                stdout=log,
                stderr=log,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mainspring",
                    "dev",
                    "--port",
                    str(server_port),
                    "--db",
                    str(workdir / "throttle.db"),
                    "--no-discovery",
                    "-u",
                    app_url,
                ],
                env=env,
                stdout=log,
                stderr=log,
            )
        )
        http = httpx.Client(base_url=server_url, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                functions = http.get("/dev").json().get("functions", [])
                if any(f["slug"] == "benchflow-throttled" for f in functions):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the throttle app did not sync")
            time.sleep(0.2)
        events = [
            {"name": "bench/throttled", "data": {"i": i}} for i in range(args.throttle_events)
        ]
        for first in range(0, len(events), 500):
            http.post("/e/bench", json=events[first : first + 500]).raise_for_status()
        time.sleep(args.throttle_seconds + 3)
        runs = http.get("/v1/runs", params={"function_id": "benchflow-throttled", "limit": 1000})
        starts = sorted(
            _instant(run["run_started_at"]) for run in runs.json()["data"] if run["run_started_at"]
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        log.close()
    window = [t for t in starts if t - starts[0] <= args.throttle_seconds]
    measured = (len(window) - 1) / (window[-1] - window[0])
    result = {
        "configured_per_s": args.rate,
        "window_s": args.throttle_seconds,
        "starts_in_window": len(window),
        "measured_per_s": round(measured, 3),
        "deviation_pct": round(100 * (measured - args.rate) / args.rate, 2),
    }
    print(f"[throttle] {json.dumps(result)}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--lease-size", type=int, default=100)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rate", type=int, default=10)
    parser.add_argument("--throttle-events", type=int, default=700)
    parser.add_argument("--throttle-seconds", type=float, default=60.0)
    parser.add_argument("--skip-throttle", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory(prefix="bench-flow-") as tmp:
        results["leasing"] = bench_leasing(args, Path(tmp))
        if not args.skip_throttle:
            results["throttle"] = bench_throttle(args, Path(tmp))
    out = args.out or BENCH_DIR / "results" / f"flow-{int(time.time())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
