"""Signal benchmark: do 10,000 runs waiting for signals slow signals and events down?

Usage (from the repository root)::

    .venv/bin/python bench/bench_signals.py [--runs 10000] [--signals 2000] [--db-dir DIR]

A fresh Mainspring server (SQLite, started as bench_waits.py does; ``--server-arg`` passes
flags) and the minimal SDK endpoint of bench_waits.py in its ``--signals`` mode
(bench/apps/wait_endpoint.py): each run of ``bench-wait-waiter`` answers its first call with
``WaitForSignal`` on its own name ``sig-<key>`` and its final call with the memo it got.
Requests are sent ONE PER REQUEST (``--concurrency`` keep-alive connections):

* with no run waiting: ``bench/noise`` events (nothing waits on or is triggered by the name),
  and ``POST /v1/signals`` for names nobody waits for (each answered 404);
* ``resume, few waiting``: ``--signals`` runs are created, then a signal per run resumes it
  (only those runs wait); the phase ends when every resumed run had its final SDK call;
* then ``--runs`` more runs wait, plus ``--signals`` runs to resume: the same three phases
  again (events, 404 signals, resume), now with ``--runs`` runs waiting beside them;
* control: the ``--runs`` runs are resumed (they end), and the three phases run once more on the
  same database with nobody waiting: what is left is the cost of the waits themselves, apart
  from the database having grown (the first phases ran on a fresh, small one).

Each condition runs ``--rounds`` (3) rounds of its phases and keeps each phase's best round.
Target: each phase at most 1.2x slower (requests/s) with ``--runs`` waiting than with them
released (the fresh-database ratio is reported beside it).
Results: bench/results/signals-<timestamp>.json. Subprocesses are stopped on exit, error or
Ctrl-C; every phase has a deadline (``--timeout``).
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import signal as os_signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import bench_core as core  # noqa: E402
import bench_waits as waits  # noqa: E402  (the server + endpoint driver this one extends)

RESULTS_DIR = BENCH_DIR / "results"
WAITING_KIND = "step.waiting_signal"
TARGET_RATIO = 1.2
HISTORY_SAMPLE = 100
COMPARED = ("events", "signals_404", "resume")


class SignalBench(waits.Bench):
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        super().__init__(args, workdir)
        self.app_args = ["--signals"]
        self.created = 0  # runs created so far: keys k0 .. k<created-1>

    def create(self, n: int) -> dict[str, Any]:
        """`n` more runs, each waiting for `sig-<its key>`; returns their keys and the timing."""
        keys = [f"k{i}" for i in range(self.created, self.created + n)]
        self.created += n
        size = self.args.create_batch
        batches = [keys[i : i + size] for i in range(0, n, size)]
        print(f"  creating {n} runs waiting for signals ...", flush=True)
        t0, cpu0 = time.monotonic(), self.cpu()
        self._post_batches(batches)
        self.wait_count("waiting", self.created)
        runs = self.run_map()
        sample = keys[-20:] + self.rng.sample(keys, min(n, HISTORY_SAMPLE))
        pending = {runs[k] for k in sample}

        def stored() -> bool:
            for run_id in list(pending):
                if WAITING_KIND in self.history_kinds(run_id):
                    pending.discard(run_id)
            return not pending

        core.wait_until(stored, self.args.timeout, interval=0.2, what=f"{WAITING_KIND} in history")
        waited = time.monotonic() - t0
        self.settle("creating runs")
        cpu = self.cpu() - cpu0
        print(f"  {n} runs waiting after {waited:.2f} s ({cpu / n * 1e6:,.0f} µs CPU per run)")
        return {"keys": keys, "runs": n, "all_waiting_s": round(waited, 3), "cpu_s": round(cpu, 3)}

    def _post_batches(self, batches: list[list[str]]) -> None:
        clients = [core.Http(self.server_port) for _ in range(min(4, len(batches)))]
        free, lock = list(clients), threading.Lock()

        def post(keys: list[str]) -> None:
            with lock:
                client = free.pop()
            try:
                events = [{"name": waits.START_EVENT, "data": {"key": k}} for k in keys]
                status, body = client.request("POST", "/e/bench", events, timeout=120.0)
                if status != 200:
                    raise core.BenchError(f"POST /e answered {status}: {str(body)[:200]}")
            finally:
                with lock:
                    free.append(client)

        try:
            with ThreadPoolExecutor(max_workers=len(clients)) as pool:
                list(pool.map(post, batches))
        finally:
            for client in clients:
                client.close()

    def send_signals(self, phase: str, names: list[str], expect: int) -> dict[str, Any]:
        """`POST /v1/signals` once per name (`--concurrency` connections); rate, latency, CPU."""
        conc = max(1, self.args.concurrency)
        clients = [core.Http(self.server_port) for _ in range(conc)]
        for client in clients:
            client.request("GET", "/health")  # connect outside the measurement
        shares = [names[i::conc] for i in range(conc)]
        latencies: list[list[float]] = [[] for _ in range(conc)]
        wrong: list[str] = []

        def worker(i: int) -> None:
            for name in shares[i]:
                t = time.perf_counter()
                status, body = clients[i].request(
                    "POST", "/v1/signals", {"signal": name, "data": {"ok": True}}
                )
                latencies[i].append(time.perf_counter() - t)
                if status != expect and len(wrong) < 5:
                    wrong.append(f"{name}: {status} {str(body)[:120]}")

        cpu0, t0 = self.cpu(), time.perf_counter()
        try:
            with ThreadPoolExecutor(max_workers=conc) as pool:
                list(pool.map(worker, range(conc)))
        finally:
            for client in clients:
                client.close()
        wall, cpu = time.perf_counter() - t0, self.cpu() - cpu0
        for text in wrong:
            self.problem(f"{phase}: expected {expect}, got {text}")
        flat = [v for lat in latencies for v in lat]
        result = {
            "requests": len(names),
            "wall_s": round(wall, 4),
            "per_s": round(len(names) / wall, 1),
            "server_cpu_us_per_request": round(cpu / len(names) * 1e6, 1),
            "latency": core.summary_ms(flat),
        }
        lat = result["latency"]
        print(
            f"  {phase:<22} {len(names)} signals {result['per_s']:>9,.1f}/s  "
            f"p50 {lat['p50_ms']:.2f} ms  p99 {lat['p99_ms']:.2f} ms  "
            f"server CPU {result['server_cpu_us_per_request']:,.0f} us/signal",
            flush=True,
        )
        return result

    def resume(self, phase: str, keys: list[str]) -> dict[str, Any]:
        """Signal each run of `keys`, then wait for their final calls and an idle server."""
        before = self.counts()["final"]
        cpu0, t0 = self.cpu(), time.monotonic()
        result = self.send_signals(phase, [f"sig-{k}" for k in keys], 200)
        self.wait_count("final", before + len(keys))
        result["all_runs_done_s"] = round(time.monotonic() - t0, 3)
        self.settle(phase)
        total = self.cpu() - cpu0
        result["server_cpu_total_us_per_request"] = round(total / len(keys) * 1e6, 1)
        return result

    def events(self, phase: str, n: int) -> dict[str, Any]:
        found = self.ingest(phase, waits.NOISE_EVENT, [f"n{i}" for i in range(n)])
        self.settle(phase)
        return {**found, "requests": found["events"], "per_s": found["events_per_s"]}

    def check(self, resumed: list[str], untouched: list[str]) -> dict[str, Any]:
        counts = self.counts()
        for field in ("mismatched", "dup_final", "timed_out"):
            if counts[field]:
                self.problem(f"endpoint counted {counts[field]} {field} final calls")
        if counts["final"] != len(resumed):
            self.problem(f"{counts['final']} final calls for {len(resumed)} signals")
        runs = self.run_map()
        bad = []
        for key in self.rng.sample(resumed, min(50, len(resumed))):
            status, output = self.run_status(runs[key])
            if (
                status != "Completed"
                or (output or {}).get("data", {}).get("signal") != f"sig-{key}"
            ):
                bad.append((key, status))
        idle = [
            key
            for key in self.rng.sample(untouched, min(50, len(untouched)))
            if self.run_status(runs[key])[0] != "Running"
        ]
        if bad or idle:
            self.problem(f"resumed runs not completed with their signal {bad[:3]}; idle {idle[:3]}")
        return {"endpoint_counts": counts, "bad_resumed": len(bad), "bad_idle": len(idle)}


def condition(bench: SignalBench, label: str, rounds: int, resumed: list[str]) -> dict[str, Any]:
    """`rounds` rounds of the three phases; each phase's best round counts (a shared machine's
    noise only ever slows a round down), every round is kept in the results."""
    n = bench.args.signals
    nobody = [f"nobody{i}" for i in range(n)]
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in COMPARED}
    for _ in range(rounds):
        found["events"].append(bench.events(f"events, {label}", n))
        found["signals_404"].append(bench.send_signals(f"404, {label}", nobody, 404))
        keys = list(bench.create(n)["keys"])
        bench.rng.shuffle(keys)
        found["resume"].append(bench.resume(f"resume, {label}", keys))
        resumed += keys
    best = {name: max(runs, key=lambda r: float(r["per_s"])) for name, runs in found.items()}
    return {
        **best,
        "rounds_per_s": {name: [r["per_s"] for r in runs] for name, runs in found.items()},
    }


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    bench = SignalBench(args, workdir)
    result: dict[str, Any] = {}
    resumed: list[str] = []
    try:
        bench.start()
        result["server_cmd"] = bench.cmd
        bench.ingest("warm-up", waits.NOISE_EVENT, [f"w{i}" for i in range(args.warmup)])
        bench.send_signals("warm-up", [f"warm{i}" for i in range(args.warmup)], 404)
        bench.settle("the warm-up")
        few = condition(bench, "fresh db", args.rounds, resumed)
        crowd = bench.create(args.runs)
        many = condition(bench, f"{args.runs} waiting", args.rounds, resumed)
        result["check"] = bench.check(resumed, crowd["keys"])
        # Control: the same database (every run above kept), nobody waiting any more.
        result["release"] = bench.resume(f"release the {args.runs}", crowd["keys"])
        after = condition(bench, "released", args.rounds, resumed)

        result.update(few_waiting=few, many_waiting=many, after_release=after)
        result["ratios"] = {
            name: round(after[name]["per_s"] / many[name]["per_s"], 3) for name in COMPARED
        }
        result["ratios_vs_fresh_db"] = {
            name: round(few[name]["per_s"] / many[name]["per_s"], 3) for name in COMPARED
        }
        result["pass"] = all(r <= TARGET_RATIO for r in result["ratios"].values())
    except core.BenchError as exc:
        bench.problem(str(exc))
        result["error"] = str(exc)
    finally:
        result.update(bench.stop())
        result["problems"] = bench.problems
    return result


def render(result: dict[str, Any], args: argparse.Namespace) -> str:
    columns = (
        ("fresh db", result.get("few_waiting") or {}),
        (f"{args.runs:,} wait", result.get("many_waiting") or {}),
        ("released", result.get("after_release") or {}),
    )
    labels = {"events": "bench/noise event", "signals_404": "signal, nobody waits (404)"}
    labels["resume"] = "signal → resume"
    lines = [f"{'request':<28}{'runs':>12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs':>9}"]
    for name, label in labels.items():
        for waiting, phases in columns:
            ph = phases.get(name)
            if ph:
                lat = ph["latency"]
                cpu = ph.get("server_cpu_us_per_request", ph.get("server_cpu_us_per_event"))
                lines.append(
                    f"{label:<28}{waiting:>12}{ph['per_s']:>10,.1f}{lat['p50_ms']:>9.2f}"
                    f"{lat['p99_ms']:>9.2f}{cpu:>9,.0f}"
                )
    if "ratios" in result:
        lines.append("")
        lines.append(f"slower with {args.runs:,} waiting than with them released (same database):")
        for name, ratio in result["ratios"].items():
            verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
            fresh = result["ratios_vs_fresh_db"][name]
            lines.append(
                f"  {labels[name]:<28} {ratio:.2f}x (target ≤ {TARGET_RATIO}x) {verdict}; "
                f"vs the fresh database {fresh:.2f}x"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Mainspring signal benchmark.")
    p.add_argument("--runs", type=int, default=10_000, help="runs waiting beside (default 10000)")
    p.add_argument("--signals", type=int, default=2_000, help="requests per phase (default 2000)")
    p.add_argument("--warmup", type=int, default=200, help="unmeasured warm-up requests")
    p.add_argument("--rounds", type=int, default=3, help="rounds per condition; the best counts")
    p.add_argument("--concurrency", type=int, default=1, help="connections sending at once")
    p.add_argument("--create-batch", type=int, default=500, help="events per POST when creating")
    p.add_argument("--seed", type=int, default=4, help="random seed for key order and samples")
    p.add_argument("--timeout", type=float, default=300.0, help="deadline per phase, seconds")
    p.add_argument("--db-dir", type=Path, default=None, help="keep the db and logs here")
    p.add_argument("--server-arg", action="append", default=[], help="extra `mainspring dev` flag")
    p.add_argument("--json-out", type=Path, default=None, help="results file")
    args = p.parse_args(argv)
    if args.runs < 1 or args.signals < 1:
        p.error("need --runs >= 1 and --signals >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atexit.register(core.PROCS.stop_all)
    os_signal.signal(os_signal.SIGTERM, core._on_sigterm)
    os_signal.signal(os_signal.SIGINT, os_signal.default_int_handler)
    started = dt.datetime.now(dt.UTC)
    keep = [False]
    try:
        with waits.work_dir(args.db_dir, keep) as workdir:
            result = run(args, workdir)
            keep[0] = "error" in result
    except KeyboardInterrupt:
        print("\ninterrupted: stopping subprocesses", file=sys.stderr)
        return 130
    finally:
        core.PROCS.stop_all()
    print(
        f"\nMainspring signal benchmark — SQLite, {args.signals:,} requests per phase, one per "
        f"request, {args.concurrency} connection(s)"
    )
    print(render(result, args))
    for text in result.get("problems") or []:
        print(f"  ! {text}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = args.json_out or RESULTS_DIR / f"signals-{time.strftime('%Y%m%d-%H%M%S')}.json"
    data = {
        "benchmark": "signals",
        "started_at": started.isoformat(),
        "argv": sys.argv,
        "machine": core.machine_info(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "result": result,
    }
    core.save_json(data, path)
    print(f"\nresults saved to {path}")
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
