"""Soak: mixed load on 3 servers and PostgreSQL with random kills, restarts and cut connections.

    .venv/bin/python bench/soak.py                 # 10 minutes (the issue's figure)
    .venv/bin/python bench/soak.py --minutes 2     # a quick look

The servers, the app (`tests/integration/apps/chaos_app.py`, the official Python SDK) and the
fault tools are the chaos suite's (`tests/chaos/`, `tests/integration/pg_control.py`). Load:
`--rate` events/s, half 3-step chains, the rest 2 s sleeps, waits for a matching event (sent 3 s
later) and fan-outs to three children. Every `--fault-every` s (after a fault-free first fifth,
the baseline) one fault at random: kill -9 a server and start it again, `pg_ctlcluster restart
-m fast` (root and a local cluster only), or `pg_terminate_backend` on one connection of one
server. Then the load stops and every run must end. Printed: events accepted / lost, runs
completed / stuck, duplicate step executions against the in-flight bound, the longest time
/health lied (200 past the 2 s deadline while the database was unreachable, or 200 naming a
component not ok), time to recover after each fault (every server's /health 200 again) and
throughput (step bodies finished per second) during faults as a share of that without them.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from chaos.load import EventSender, Fault, count_reruns  # noqa: E402
from chaos.observe import DbWatch, HealthWatch, health_verdict  # noqa: E402
from integration import pg_control  # noqa: E402
from integration.harness import (  # noqa: E402
    ServerProcess,
    close_postgres,
    postgres_cluster,
    postgres_test_url,
)

KINDS = {"three": 0.5, "sleep": 0.2, "wait": 0.15, "fanout": 0.15}
SLUGS = ["chaos-three", "chaos-sleep", "chaos-wait", "chaos-fanout", "chaos-child"]
MAX_IN_FLIGHT = 16
LEASE_SECONDS = 3
DRAIN_SECONDS = 120.0


def main() -> None:
    args = parse_args()
    workdir = Path(args.workdir or f"/tmp/mainspring-soak-{int(time.time())}")
    server_args = ["--lease-seconds", str(LEASE_SECONDS), "--max-in-flight", str(MAX_IN_FLIGHT)]
    try:
        with postgres_cluster(
            workdir, "chaos_app", SLUGS, args.servers, server_args=server_args
        ) as cluster:
            soak(cluster.servers, cluster.sidefx.read, args)
    finally:
        close_postgres()
    print(f"logs in {workdir}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="events per second")
    parser.add_argument("--fault-every", type=float, default=15.0, help="seconds, on average")
    parser.add_argument("--workdir", default="", help="logs and the side-effect log")
    return parser.parse_args()


class Load:
    """One EventSender per kind; a thread sending `rate` events/s until stopped."""

    def __init__(self, urls: Callable[[], Sequence[str]], rate: float) -> None:
        self.rate = rate
        self.senders = {
            k: EventSender(urls, f"chaos/{k}", prefix=f"soak-{k}", strict=False) for k in KINDS
        }
        self.go = EventSender(urls, "chaos/go", prefix="soak-go", strict=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._due_go: list[tuple[float, int]] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        for _, i in self._due_go:
            self.go.send([i])

    def _loop(self) -> None:
        n = 0
        while not self._stop.is_set():
            tick = time.monotonic()
            per_kind: dict[str, list[int]] = {k: [] for k in KINDS}
            for _ in range(round(self.rate)):
                kind = random.choices(list(KINDS), weights=list(KINDS.values()))[0]
                per_kind[kind].append(n)
                n += 1
            for kind, numbers in per_kind.items():
                if numbers:
                    self.senders[kind].send(numbers)
            self._due_go += [(tick + 3.0, i) for i in per_kind["wait"]]
            due = [i for at, i in self._due_go if at <= tick]
            self._due_go = [(at, i) for at, i in self._due_go if at > tick]
            if due:
                self.go.send(due)
            self._stop.wait(max(0.0, 1.0 - (time.monotonic() - tick)))


def inject(kind: str, servers: list[ServerProcess], cluster: list[str] | None) -> str:
    """Cause one fault of `kind`; returns what was done."""
    k = random.randrange(len(servers))
    if kind == "kill":
        servers[k].kill()
        servers[k].start(timeout=60)
        return f"kill -9 server{k}"
    if kind == "restart" and cluster is not None:
        pg_control.pg_ctl(cluster, "restart", "-m", "fast")
        return "PostgreSQL restart -m fast"
    role = random.choice(["writer-0", "writer-1", "leaser", "listener", "reader-0", "reader-1"])
    cut = pg_control.terminate_connection(servers[k].db, servers[k].pid, role)
    return f"pg_terminate_backend server{k}/{role} ({cut} cut)"


def all_healthy(servers: list[ServerProcess]) -> bool:
    for server in servers:
        try:
            if httpx.get(f"{server.url}/health", timeout=2.0).status_code != 200:
                return False
        except httpx.TransportError:
            return False
    return True


def soak(
    servers: list[ServerProcess],
    entries: Callable[[], list[dict[str, object]]],
    args: argparse.Namespace,
) -> None:
    cluster, why = pg_control.find_cluster_command(postgres_test_url())
    kinds = ["kill", "terminate"] + (["restart"] if cluster else [])
    if cluster is None:
        print(f"no PostgreSQL restarts: {why}")
    urls = lambda: [s.url for s in servers]  # noqa: E731
    load = Load(urls, args.rate)
    faults: list[Fault] = []
    began = time.monotonic()
    end = began + args.minutes * 60
    with HealthWatch(urls) as health, DbWatch(servers[0].db) as db:
        load.start()
        time.sleep(args.minutes * 60 / 5)  # the fault-free baseline
        while time.monotonic() < end:
            kind = random.choice(kinds)
            at = time.monotonic()
            detail = inject(kind, servers, cluster)
            while not all_healthy(servers) and time.monotonic() < at + 120:
                time.sleep(0.1)
            hit = len(servers) if kind == "restart" else 1
            faults.append(Fault(kind, at, time.monotonic(), servers_hit=hit, detail=detail))
            print(f"{at - began:7.1f}s {detail}: recovered in {faults[-1].ended - at:.2f}s")
            time.sleep(random.uniform(0.5, 1.5) * args.fault_every)
        load_stopped = time.monotonic()
        load.stop()
        stuck = drain(servers)
    report(servers, load, faults, entries(), health, db, began, load_stopped, stuck)


def list_runs(url: str, slug: str) -> list[dict[str, object]]:
    """Every run of `slug` (all pages)."""
    runs: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"function_id": slug, "limit": 1000, **({"cursor": cursor} if cursor else {})}
        body = httpx.get(f"{url}/v1/runs", params=params, timeout=30.0).json()
        runs += body["data"]
        cursor = body.get("metadata", {}).get("cursor")
        if not cursor:
            return runs


def drain(servers: list[ServerProcess]) -> Counter[str]:
    """Wait until no run is Running or Queued (or DRAIN_SECONDS): the statuses left."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        left: Counter[str] = Counter()
        for slug in SLUGS:
            for run in list_runs(servers[0].url, slug):
                if run["status"] not in {"Completed", "Failed", "Cancelled"}:
                    left[str(run["status"])] += 1
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(2.0)


def report(
    servers: list[ServerProcess],
    load: Load,
    faults: list[Fault],
    entries: list[dict[str, object]],
    health: HealthWatch,
    db: DbWatch,
    began: float,
    load_stopped: float,
    stuck: Counter[str],
) -> None:
    url = servers[0].url
    accepted = lost = doubled = completed = failed = 0
    for kind, sender in load.senders.items():
        runs = list_runs(url, f"chaos-{kind}")
        per_event = Counter(str(r["event_id"]) for r in runs)
        accepted += len(sender.internal_ids)
        lost += sum(1 for i in sender.internal_ids.values() if i not in per_event)
        doubled += sum(1 for n in per_event.values() if n > 1)
        completed += sum(1 for r in runs if r["status"] == "Completed")
        failed += sum(1 for r in runs if r["status"] == "Failed")
    children = list_runs(url, "chaos-child")
    reruns, unexplained = count_reruns(entries, faults)  # type: ignore[arg-type]
    bound = sum(f.servers_hit for f in faults) * MAX_IN_FLIGHT
    windows = db.down_windows()
    lies = [health_verdict(health.of(k), windows).longest_lie for k in range(len(servers))]
    inconsistent = [
        s
        for s in health.samples
        if s.status == 200
        and any(c.get("state") != "ok" for c in (s.body.get("components") or {}).values())
    ]
    print("\n--- soak ---")
    print(
        f"duration {load_stopped - began:.0f}s of load, {len(servers)} servers, "
        f"{len(faults)} faults"
    )
    print(f"events accepted {accepted} (+{len(load.go.internal_ids)} wake-ups), lost {lost}")
    unexpected = [a for sender in (*load.senders.values(), load.go) for a in sender.unexpected]
    print(f"answers other than 200/503 to POST /e: {len(unexpected)} {unexpected[:3]}")
    print(
        f"runs completed {completed + sum(r['status'] == 'Completed' for r in children)}, "
        f"failed {failed}, stuck {sum(stuck.values())} {dict(stuck)}, "
        f"events with several runs {doubled}"
    )
    print(
        f"fan-out children {len(children)} for "
        f"{len(load.senders['fanout'].internal_ids)} parents x 3"
    )
    print(
        f"duplicate step executions {reruns} (in-flight bound {bound}); "
        f"not explained by a fault: {len(unexplained)} {unexplained[:3]}"
    )
    print(
        f"longest /health lie: {max(lies, default=0):.2f}s past the 2 s deadline "
        f"(database down {[round(e - b, 2) for b, e in windows]}s); "
        f"200 naming a component not ok: {len(inconsistent)} samples"
    )
    for kind in sorted({f.kind for f in faults}):
        times = sorted(f.ended - f.began for f in faults if f.kind == kind)
        print(
            f"recovery after {kind}: n={len(times)} median {times[len(times) // 2]:.2f}s "
            f"max {times[-1]:.2f}s"
        )
    print(f"throughput during faults: {throughput_share(entries, faults, began, load_stopped)}")


def throughput_share(
    entries: list[dict[str, object]], faults: list[Fault], began: float, stopped: float
) -> str:
    """Step bodies finished per second inside fault windows vs outside them (while loading)."""
    ends = [float(e["mono"]) for e in entries if e["kind"] == "END"]  # type: ignore[arg-type]
    inside_s = sum(min(f.ended, stopped) - f.began for f in faults)
    outside_s = (stopped - began) - inside_s
    inside = sum(1 for t in ends if any(f.began <= t < f.ended for f in faults))
    outside = sum(1 for t in ends if began <= t < stopped) - inside
    if inside_s <= 0 or outside_s <= 0 or outside == 0:
        return "n/a"
    during, clean = inside / inside_s, outside / outside_s
    return f"{during:.1f} vs {clean:.1f} steps/s without faults = {during / clean:.0%}"


if __name__ == "__main__":
    main()
