"""Wait-index benchmark: does an event that resumes a waiting run cost about as much to ingest
as an event nothing cares about, with many runs waiting?

Usage (from the repository root)::

    .venv/bin/python bench/bench_waits.py [--runs 10000] [--events 2000] [--db-dir DIR]

A fresh Mainspring server (SQLite, ``python -m mainspring dev --db <dir>/waits.db -u <app url>
--no-discovery --port <free>``) and a minimal hand-written SDK endpoint
(bench/apps/wait_endpoint.py) are started as subprocesses. ``--runs`` runs of
``bench-wait-waiter`` are created; each one's first call is answered with a ``WaitForEvent`` op on
``bench/reply`` with ``if: event.data.key == async.data.key`` (each run has its own key). Once all
of them wait (the endpoint handed out every wait op and a sample of run histories shows
``step.waiting``) and the server is idle, ``--events`` events are ingested ONE PER REQUEST per
phase, and the events/s and the server's CPU per event (utime+stime from /proc/<pid>/stat) are
measured:

* ``plain``: ``bench/noise`` events (nothing waits on or is triggered by that name);
* ``resume``: ``bench/reply`` events, each matching exactly one waiting run (distinct keys);
  the resumed runs' final SDK calls happen meanwhile; the phase's *total* CPU also counts the
  tail until every resumed run had its final call and the server is idle again;
* for context: ``plain, no waits`` (before any run exists), ``reply, no match`` (``bench/reply``
  events whose key no run waits for), ``plain after`` (after the resume phase) and ``one-call
  run`` (``bench/oneshot`` events, each starting a run of ``bench-wait-oneshot`` whose first call
  is answered 200 at once: the cost of "event → one SDK call → completed run" without any wait,
  i.e. what a resume has to do at the least).

Target: the resume path's events/s within 2x of the plain path's (ratio plain/resume <= 2).
Results: bench/results/waits-<timestamp>.json. Every subprocess is stopped on exit, error or
Ctrl-C, and every phase has a deadline (``--timeout``).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import bench_core as core  # noqa: E402  (process, HTTP, CPU and stats helpers)

REPO = BENCH_DIR.parent
APPS = BENCH_DIR / "apps"
RESULTS_DIR = BENCH_DIR / "results"
HOST = core.HOST
APP_ID = "bench-wait"
SLUG = f"{APP_ID}-waiter"
START_EVENT = "bench/wait.start"
REPLY_EVENT = "bench/reply"
NOISE_EVENT = "bench/noise"
ONESHOT_EVENT = "bench/oneshot"
EVENT_KEY = "bench"
TARGET_RATIO = 2.0
IDLE_CPU_FRACTION = 0.05  # the server counts as idle below 5 % of one CPU
HISTORY_SAMPLE = 200


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.problems: list[str] = []
        self.server: Any = None
        self.app: Any = None
        self.server_port = core.free_port()
        self.app_port = core.free_port()
        while self.app_port == self.server_port:
            self.app_port = core.free_port()
        self.api = core.Http(self.server_port)
        self.app_http = core.Http(self.app_port)
        self.cmd: list[str] = []
        self.rng = random.Random(args.seed)
        self.app_args: list[str] = []  # extra arguments of the endpoint (bench_signals.py)

    @property
    def app_url(self) -> str:
        return f"http://{HOST}:{self.app_port}/api/inngest"

    @property
    def server_url(self) -> str:
        return f"http://{HOST}:{self.server_port}"

    def problem(self, text: str) -> None:
        print(f"  ! {text}", flush=True)
        self.problems.append(text)

    # -- processes ---------------------------------------------------------------------------

    def start(self) -> None:
        env = dict(os.environ, INNGEST_DEV="1", INNGEST_BASE_URL=self.server_url)
        env.pop("INNGEST_SIGNING_KEY", None)
        cmd = [sys.executable, str(APPS / "wait_endpoint.py"), "--port", str(self.app_port)]
        cmd += ["--app-id", APP_ID, "--server-url", self.server_url, *self.app_args]
        app_log = self.workdir / "app-wait.log"
        self.app = core.PROCS.start(cmd, app_log, env)

        def app_ready() -> bool:
            if self.app.poll() is not None:
                raise core.BenchError(f"app exited: {self.app.returncode}\n{core.tail(app_log)}")
            status, _ = self.app_http.request("GET", "/bench/counts")
            return status == 200

        core.wait_until(app_ready, 30.0, what=f"the wait endpoint on port {self.app_port}")

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p
        )
        for key in list(env):
            if key.startswith("MAINSPRING_"):
                del env[key]
        db = self.workdir / "waits.db"
        self.cmd = [sys.executable, "-m", "mainspring", "dev", "--db", str(db), "-u", self.app_url]
        self.cmd += ["--no-discovery", "--port", str(self.server_port), "--host", HOST]
        self.cmd += list(self.args.server_arg or [])
        print(f"  server: {' '.join(self.cmd)}", flush=True)
        server_log = self.workdir / "server.log"
        self.server = core.PROCS.start(self.cmd, server_log, env)

        def healthy() -> bool:
            if self.server.poll() is not None:
                raise core.BenchError(
                    f"server exited: {self.server.returncode}\n{core.tail(server_log)}"
                )
            status, _ = self.api.request("GET", "/health")
            return status == 200

        core.wait_until(healthy, 30.0, what="server GET /health == 200")
        last_put = time.monotonic()

        def synced() -> bool:
            nonlocal last_put
            status, body = self.api.request("GET", "/dev")
            if status == 200 and isinstance(body, dict):
                if SLUG in {f.get("slug") for f in body.get("functions") or []}:
                    return True
            if time.monotonic() - last_put > 5.0:
                last_put = time.monotonic()
                self.problem("function not synced after 5 s; sending the sync PUT ourselves")
                self.app_http.request("PUT", "/api/inngest", {"url": self.app_url})
            return False

        core.wait_until(synced, 30.0, what=f"sync of {SLUG}")

    def stop(self) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if self.server is not None:
            t0 = time.monotonic()
            rc = core.PROCS.stop(self.server, signal.SIGTERM, grace=40.0)
            info = {"server_exit_code": rc, "server_stop_s": round(time.monotonic() - t0, 3)}
            if rc != 0:
                self.problem(f"server exited with code {rc} on SIGTERM (contract: 0)")
        if self.app is not None:
            core.PROCS.stop(self.app, signal.SIGTERM, grace=10.0)
        self.api.close()
        self.app_http.close()
        return info

    def check_alive(self) -> None:
        for name, proc in (("server", self.server), ("app", self.app)):
            if proc is not None and proc.poll() is not None:
                raise core.BenchError(f"{name} died with exit code {proc.returncode}")

    # -- observation -------------------------------------------------------------------------

    def cpu(self) -> float:
        return core.cpu_seconds(self.server.pid)

    def counts(self) -> dict[str, Any]:
        status, body = self.app_http.request("GET", "/bench/counts")
        if status != 200 or not isinstance(body, dict):
            raise core.BenchError(f"GET /bench/counts answered {status}")
        return body

    def wait_count(self, what: str, n: int) -> dict[str, Any]:
        """Long-poll the endpoint until its counter `what` reaches `n` (deadline --timeout)."""
        end = time.monotonic() + self.args.timeout
        answer: dict[str, Any] = {}
        while time.monotonic() < end:
            secs = max(0.1, min(20.0, end - time.monotonic()))
            status, body = self.app_http.request(
                "GET", f"/bench/wait?what={what}&n={n}&secs={secs:.3f}", timeout=secs + 15.0
            )
            if status == 200 and isinstance(body, dict):
                answer = body
                if body.get("done"):
                    return body
            self.check_alive()
        raise core.BenchError(
            f"only {answer.get(what, '?')}/{n} {what} within {self.args.timeout:.0f} s "
            f"(counts: {answer})"
        )

    def settle(self, what: str) -> float:
        """Wait until the server uses < 5 % of a CPU over two 0.25 s windows; returns seconds."""
        start = time.monotonic()
        quiet = 0
        while time.monotonic() - start < 60.0:
            c0 = self.cpu()
            time.sleep(0.25)
            quiet = quiet + 1 if self.cpu() - c0 < 0.25 * IDLE_CPU_FRACTION else 0
            if quiet >= 2:
                return time.monotonic() - start
        self.problem(f"server still busy 60 s after {what}")
        return time.monotonic() - start

    def db_work(self) -> dict[str, float]:
        """The server's statements/transactions/round trips so far (`GET /health`)."""
        status, body = self.api.request("GET", "/health")
        work = body.get("database_work") if status == 200 and isinstance(body, dict) else None
        if not isinstance(work, dict):
            return {}
        return {k: v for k, v in work.items() if isinstance(v, (int, float))}

    def db_work_per_event(self, before: dict[str, float], n: int) -> dict[str, float]:
        after = self.db_work()
        return {k: round((after[k] - before[k]) / n, 2) for k in after if k in before}

    def history_kinds(self, run_id: str) -> set[str]:
        status, body = self.api.request("GET", f"/v1/runs/{run_id}/history")
        if status != 200 or not isinstance(body, dict):
            return set()
        return {str(h.get("kind")) for h in body.get("data") or [] if isinstance(h, dict)}

    def run_status(self, run_id: str) -> tuple[str | None, Any]:
        status, body = self.api.request("GET", f"/v1/runs/{run_id}")
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return None, None
        return body["data"].get("status"), body["data"].get("output")

    # -- phases ------------------------------------------------------------------------------

    def create_runs(self) -> dict[str, Any]:
        n, batch = self.args.runs, self.args.create_batch
        print(f"  creating {n} waiting runs ({batch} events per POST) ...", flush=True)
        t0 = time.monotonic()
        cpu0 = self.cpu()
        batches = [list(range(i, min(n, i + batch))) for i in range(0, n, batch)]
        clients = [core.Http(self.server_port) for _ in range(min(4, len(batches)))]
        lock = threading.Lock()
        free = list(clients)

        def post(indexes: list[int]) -> None:
            with lock:
                client = free.pop()
            try:
                events = [{"name": START_EVENT, "data": {"key": f"k{i}"}} for i in indexes]
                status, body = client.request("POST", f"/e/{EVENT_KEY}", events, timeout=120.0)
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
        sent_s = time.monotonic() - t0
        self.wait_count("waiting", n)
        all_waiting_s = time.monotonic() - t0
        runs = self.run_map()
        missing = [f"k{i}" for i in range(n) if f"k{i}" not in runs]
        if missing:
            raise core.BenchError(f"{len(missing)} keys never reached the endpoint: {missing[:5]}")

        # The endpoint has answered every first call; make sure the pauses are stored too.
        keys = [f"k{i}" for i in range(max(0, n - 50), n)]
        keys += self.rng.sample([f"k{i}" for i in range(n)], min(n, HISTORY_SAMPLE))
        pending = {runs[k] for k in keys}

        def stored() -> bool:
            for run_id in list(pending):
                if "step.waiting" in self.history_kinds(run_id):
                    pending.discard(run_id)
            return not pending

        core.wait_until(stored, self.args.timeout, interval=0.2, what="step.waiting in history")
        stored_s = time.monotonic() - t0
        settle_s = self.settle("creating the runs")
        cpu_s = self.cpu() - cpu0
        counts = self.counts()
        print(
            f"  {n} runs waiting: events sent in {sent_s:.2f} s, all told to wait after "
            f"{all_waiting_s:.2f} s, pauses verified after {stored_s:.2f} s "
            f"(server idle {settle_s:.2f} s later; {counts['calls']} SDK calls)",
            flush=True,
        )
        if counts["wait_replies"] != n:
            self.problem(f"{counts['wait_replies']} WaitForEvent replies for {n} runs")
        return {
            "runs": n,
            "send_s": round(sent_s, 3),
            "all_waiting_s": round(all_waiting_s, 3),
            "pauses_verified_s": round(stored_s, 3),
            "server_cpu_s": round(cpu_s, 3),
            "server_cpu_us_per_run": round(cpu_s / n * 1e6, 1),
            "history_sampled": len(keys),
        }

    def run_map(self) -> dict[str, str]:
        status, body = self.app_http.request("GET", "/bench/runs", timeout=60.0)
        if status != 200 or not isinstance(body, dict):
            raise core.BenchError(f"GET /bench/runs answered {status}")
        return {str(k): str(v) for k, v in body.items()}

    @contextlib.contextmanager
    def profiled(self, phase: str) -> Iterator[None]:
        """`--profile PHASE`: py-spy attached to the server for that phase only (raw stacks)."""
        pyspy = shutil.which("py-spy") or shutil.which(
            "py-spy", path=str(Path(sys.executable).parent)
        )
        if phase not in (self.args.profile or []) or pyspy is None:
            yield
            return
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        slug = phase.replace(" ", "-").replace(",", "")
        path = RESULTS_DIR / f"profile-waits-{slug}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        cmd = [pyspy, "record", "--rate", "250", "--format", "raw", "-o", str(path)]
        cmd += ["--gil"] if self.args.profile_gil else []
        cmd += ["--native", "--threads"] if self.args.profile_native else []
        cmd += ["--pid", str(self.server.pid)]
        spy = core.PROCS.start(cmd, self.workdir / f"py-spy-{slug}.log", dict(os.environ))
        time.sleep(1.0)  # py-spy attaches before the phase starts
        try:
            yield
        finally:
            core.PROCS.stop(spy, signal.SIGINT, grace=20.0)
            print(f"  profile of {phase!r}: {path}", flush=True)

    def ingest(self, phase: str, name: str, keys: list[str]) -> dict[str, Any]:
        """POST one event per request (`--concurrency` connections); rate, latency and CPU."""
        with self.profiled(phase):
            return self._ingest(phase, name, keys)

    def _ingest(self, phase: str, name: str, keys: list[str]) -> dict[str, Any]:
        conc = max(1, self.args.concurrency)
        clients = [core.Http(self.server_port) for _ in range(conc)]
        for client in clients:
            client.request("GET", "/health")  # connect outside the measurement
        shares = [keys[i::conc] for i in range(conc)]
        latencies: list[list[float]] = [[] for _ in range(conc)]
        errors: list[str] = []

        def worker(i: int) -> None:
            client = clients[i]
            for key in shares[i]:
                t = time.perf_counter()
                status, body = client.request(
                    "POST", f"/e/{EVENT_KEY}", {"name": name, "data": {"key": key}}
                )
                latencies[i].append(time.perf_counter() - t)
                if status != 200 and len(errors) < 5:
                    errors.append(f"{status}: {str(body)[:120]}")

        work0 = self.db_work()
        cpu0 = self.cpu()
        t0 = time.perf_counter()
        try:
            with ThreadPoolExecutor(max_workers=conc) as pool:
                list(pool.map(worker, range(conc)))
        finally:
            for client in clients:
                client.close()
        wall = time.perf_counter() - t0
        cpu = self.cpu() - cpu0
        work = self.db_work_per_event(work0, len(keys))
        for err in errors:
            self.problem(f"{phase}: POST /e answered {err}")
        flat = [v for lat in latencies for v in lat]
        result = {
            "events": len(keys),
            "event_name": name,
            "concurrency": conc,
            "wall_s": round(wall, 4),
            "events_per_s": round(len(keys) / wall, 1),
            "server_cpu_s": round(cpu, 4),
            "server_cpu_us_per_event": round(cpu / len(keys) * 1e6, 1),
            "latency": core.summary_ms(flat),
            "db_work_per_event": work,
        }
        lat = result["latency"]
        print(
            f"  {phase:<16} {len(keys)} x {name:<12} {result['events_per_s']:>9,.1f} ev/s  "
            f"p50 {lat['p50_ms']:.2f} ms  p99 {lat['p99_ms']:.2f} ms  "
            f"server CPU {result['server_cpu_us_per_event']:,.0f} us/event  "
            f"db/event {_work_text(work)}",
            flush=True,
        )
        return result

    def ingest_and_finish(
        self, phase: str, name: str, keys: list[str], counter: str
    ) -> dict[str, Any]:
        """`ingest`, then wait until the endpoint's `counter` grew by len(keys) (each event's run
        had its final call) and the server is idle; adds the CPU of that tail."""
        before = self.counts()
        work0 = self.db_work()
        cpu0 = self.cpu()
        t0 = time.monotonic()
        result = self.ingest(phase, name, keys)
        self.wait_count(counter, before[counter] + len(keys))
        all_done_s = time.monotonic() - t0
        self.settle(f"the {phase} phase")
        total_cpu = self.cpu() - cpu0
        result["db_work_total_per_event"] = self.db_work_per_event(work0, len(keys))
        result["all_runs_done_s"] = round(all_done_s, 3)
        result["server_cpu_total_s"] = round(total_cpu, 4)
        result["server_cpu_total_us_per_event"] = round(total_cpu / len(keys) * 1e6, 1)
        print(
            f"  {'':<16} all {len(keys)} runs had their final call after "
            f"{all_done_s:.2f} s; server CPU incl. those calls "
            f"{result['server_cpu_total_us_per_event']:,.0f} us/event, "
            f"db/event {_work_text(result['db_work_total_per_event'])}",
            flush=True,
        )
        return result

    def verify(self, resumed: list[str], untouched: list[str]) -> dict[str, Any]:
        counts = self.counts()
        runs = self.run_map()
        expected_final = len(resumed)
        if counts["final"] != expected_final:
            self.problem(f"{counts['final']} runs had a final call, expected {expected_final}")
        for field in ("mismatched", "dup_final", "timed_out"):
            if counts[field]:
                self.problem(f"endpoint counted {counts[field]} {field} final calls")
        bad = []
        for key in self.rng.sample(resumed, min(100, len(resumed))):
            status, output = self.run_status(runs[key])
            ok = status == "Completed" and isinstance(output, dict)
            if not ok or (output.get("data") or {}).get("key") != key:
                bad.append((key, status, str(output)[:80]))
        if bad:
            self.problem(f"resumed runs not Completed with their own event: {bad[:3]}")
        still = []
        for key in self.rng.sample(untouched, min(100, len(untouched))):
            status, _ = self.run_status(runs[key])
            if status != "Running":
                still.append((key, status))
        if still:
            self.problem(f"runs nobody resumed are not Running: {still[:3]}")
        return {
            "endpoint_counts": counts,
            "sampled_resumed_bad": len(bad),
            "sampled_idle_bad": len(still),
        }


def _work_text(work: dict[str, float]) -> str:
    names = (("statements", "stmt"), ("transactions", "tx"), ("round_trips", "rt"))
    return " ".join(f"{work[k]:g} {short}" for k, short in names if k in work) or "-"


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    bench = Bench(args, workdir)
    result: dict[str, Any] = {"server_cmd": None}
    try:
        bench.start()
        result["server_cmd"] = bench.cmd
        n_events = args.events
        noise = [f"n{i}" for i in range(n_events)]
        bench.ingest("warm-up", NOISE_EVENT, [f"w{i}" for i in range(args.warmup)])
        bench.settle("the warm-up")
        phases: dict[str, Any] = {}
        phases["plain_no_waits"] = bench.ingest("plain, no waits", NOISE_EVENT, noise)
        result["create"] = bench.create_runs()
        phases["plain"] = bench.ingest("plain", NOISE_EVENT, noise)
        bench.settle("the plain phase")
        phases["reply_no_match"] = bench.ingest(
            "reply, no match", REPLY_EVENT, [f"nobody{i}" for i in range(n_events)]
        )
        bench.settle("the no-match phase")
        keys = [f"k{i}" for i in range(args.runs)]
        bench.rng.shuffle(keys)
        resumed, untouched = keys[:n_events], keys[n_events:]
        phases["resume"] = bench.ingest_and_finish("resume", REPLY_EVENT, resumed, "final")
        phases["plain_after"] = bench.ingest("plain after", NOISE_EVENT, noise)
        bench.settle("the plain-after phase")
        phases["one_call_run"] = bench.ingest_and_finish(
            "one-call run", ONESHOT_EVENT, [f"o{i}" for i in range(n_events)], "oneshot"
        )
        result["phases"] = phases
        result["verify"] = bench.verify(resumed, untouched)
        plain, resume = phases["plain"], phases["resume"]
        ratio = plain["events_per_s"] / resume["events_per_s"]
        result["ratio_plain_over_resume_events_per_s"] = round(ratio, 3)
        result["ratio_resume_over_plain_cpu_per_event"] = round(
            resume["server_cpu_us_per_event"] / max(plain["server_cpu_us_per_event"], 1e-9), 3
        )
        result["ratio_resume_total_over_plain_cpu_per_event"] = round(
            resume["server_cpu_total_us_per_event"] / max(plain["server_cpu_us_per_event"], 1e-9),
            3,
        )
        oneshot = phases["one_call_run"]
        result["ratio_one_call_run_over_resume_events_per_s"] = round(
            oneshot["events_per_s"] / resume["events_per_s"], 3
        )
        result["target_ratio"] = TARGET_RATIO
        result["pass"] = ratio <= TARGET_RATIO
    except core.BenchError as exc:
        bench.problem(str(exc))
        result["error"] = str(exc)
    finally:
        result.update(bench.stop())
        result["problems"] = bench.problems
    return result


def render(result: dict[str, Any], args: argparse.Namespace) -> str:
    phases = result.get("phases") or {}
    labels = {
        "plain_no_waits": "plain, no runs waiting",
        "plain": f"plain, {args.runs:,} waiting",
        "reply_no_match": "bench/reply, no match",
        "resume": "bench/reply → resume",
        "plain_after": "plain, after resume",
        "one_call_run": "bench/oneshot (1-call run)",
    }
    lines = [
        f"{'phase':<26}{'events':>8}{'events/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU µs/ev':>11}{'incl. runs':>12}"
    ]
    for key, label in labels.items():
        ph = phases.get(key)
        if not ph:
            continue
        lat = ph["latency"]
        total = ph.get("server_cpu_total_us_per_event")
        lines.append(
            f"{label:<26}{ph['events']:>8}{ph['events_per_s']:>11,.1f}{lat['p50_ms']:>9.2f}"
            f"{lat['p99_ms']:>9.2f}{ph['server_cpu_us_per_event']:>11,.0f}"
            f"{'' if total is None else f'{total:,.0f}':>12}"
        )
    if "ratio_plain_over_resume_events_per_s" in result:
        ratio = result["ratio_plain_over_resume_events_per_s"]
        verdict = "PASS" if result.get("pass") else "FAIL"
        lines.append("")
        lines.append(
            f"plain / resume events/s: {ratio:.2f}x  (target ≤ {TARGET_RATIO:.0f}x)  {verdict}"
        )
        lines.append(
            "resume / plain server CPU per event: "
            f"{result['ratio_resume_over_plain_cpu_per_event']:.2f}x while sending, "
            f"{result['ratio_resume_total_over_plain_cpu_per_event']:.2f}x including the "
            "resumed runs' SDK calls"
        )
        lines.append(
            "resume vs an event that starts a one-call run: "
            f"{result['ratio_one_call_run_over_resume_events_per_s']:.2f}x the events/s "
            "(1.0 = resuming costs no more than starting a run)"
        )
    if "create" in result:
        c = result["create"]
        lines.append(
            f"setup: {c['runs']:,} runs waiting after {c['all_waiting_s']:.1f} s "
            f"({c['server_cpu_us_per_run']:,.0f} µs server CPU per run)"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Mainspring wait-index benchmark.")
    p.add_argument("--runs", type=int, default=10_000, help="waiting runs (default 10000)")
    p.add_argument("--events", type=int, default=2_000, help="events per phase (default 2000)")
    p.add_argument("--warmup", type=int, default=200, help="unmeasured warm-up events")
    p.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="connections sending at once, one event per request each (default 1)",
    )
    p.add_argument("--create-batch", type=int, default=500, help="events per POST when creating")
    p.add_argument("--seed", type=int, default=4, help="random seed for key order and samples")
    p.add_argument("--timeout", type=float, default=300.0, help="deadline per phase, seconds")
    p.add_argument("--db-dir", type=Path, default=None, help="keep the db and logs here")
    p.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra argument for `mainspring dev` (repeatable, use --server-arg=--x)",
    )
    p.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="PHASE",
        help="attach py-spy to the server during this phase (e.g. resume, plain; repeatable); "
        "raw collapsed stacks in bench/results/",
    )
    p.add_argument("--profile-gil", action="store_true", help="py-spy --gil (GIL holder only)")
    p.add_argument(
        "--profile-native", action="store_true", help="py-spy --native --threads (C frames too)"
    )
    p.add_argument("--json-out", type=Path, default=None, help="results file")
    args = p.parse_args(argv)
    if args.runs < 1 or args.events < 1 or args.events > args.runs:
        p.error("need 1 <= --events <= --runs")
    return args


@contextlib.contextmanager
def work_dir(db_dir: Path | None, keep: list[bool]) -> Iterator[Path]:
    if db_dir is not None:
        db_dir.mkdir(parents=True, exist_ok=True)
        yield db_dir.resolve()
        return
    tmp = Path(tempfile.mkdtemp(prefix="mainspring-bench-waits-"))
    try:
        yield tmp
    finally:
        if keep[0]:
            print(f"(logs and db kept in {tmp})", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atexit.register(core.PROCS.stop_all)
    signal.signal(signal.SIGTERM, core._on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = dt.datetime.now(dt.UTC)
    keep = [False]
    try:
        with work_dir(args.db_dir, keep) as workdir:
            result = run(args, workdir)
            keep[0] = "error" in result
    except KeyboardInterrupt:
        print("\ninterrupted: stopping subprocesses", file=sys.stderr)
        core.PROCS.stop_all()
        return 130
    finally:
        core.PROCS.stop_all()
    print()
    print(
        f"Mainspring wait-index benchmark — SQLite, {args.runs:,} runs waiting on "
        f"{REPLY_EVENT}, {args.events:,} events per phase, one per request, "
        f"{args.concurrency} connection(s)"
    )
    print(render(result, args))
    if result.get("problems"):
        print("\nproblems seen:")
        for text in result["problems"]:
            print(f"  - {text}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = args.json_out or RESULTS_DIR / f"waits-{time.strftime('%Y%m%d-%H%M%S')}.json"
    data = {
        "benchmark": "waits",
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
