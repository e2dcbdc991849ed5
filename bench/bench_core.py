"""Core benchmark for Mainspring: a 3-step function, end to end, on SQLite.

Usage (from the repository root)::

    .venv/bin/python bench/bench_core.py [--runs 1000] [--db-dir DIR] [--targets sdk,minimal]
        [--otel off|both]

For each target app, a fresh Mainspring server subprocess is started
(``python -m mainspring dev --db <dir>/x.db -u <app url> --no-discovery --port <free>``) and
driven through three phases after a short warm-up:

1. throughput: ``--runs`` events sent in batches of ``--batch`` per ``POST /e/{key}``
   (``--send-concurrency`` requests at once), so that all runs are in flight together;
   wall time = first send -> last final SDK call;
2. event -> first-call latency (per run: arrival of the run's first SDK call minus the send time
   of the POST that created it, via ``sent_at`` in the event data);
3. sequential latency: ``--seq-runs`` runs one after another, completion = the run's final
   SDK call (the one answered 200), also from the server's ``ended_at``;

and the server process's CPU seconds (utime+stime from /proc) over the throughput phase.

``--variant NAME=WORDS`` runs every target again with other server settings, as column
``target@NAME``, and prints each variant's ratios to the plain target (same run); words of the
form ``UPPER_NAME=value`` go to the server's environment, the others are flags. ``--rounds N``
interleaves N rounds of every column and reports medians. For example, the durability modes
(``--variant 'power=--durability power'``) or the charts' rollups' cost per step
(``--variant 'norollups=MAINSPRING_ROLLUP_INTERVAL=0'``: plain ÷ norollups CPU is the cost).

Targets: (a) ``sdk`` = a real Python SDK app (FastAPI + inngest 0.5.19 under uvicorn, one
worker; bench/apps/sdk_app.py); (b) ``minimal`` = a hand-written endpoint answering instantly
(bench/apps/minimal_endpoint.py); (c) ``connect`` = the same function as (a) on a Python SDK
Connect worker dialling in over WebSocket (bench/apps/connect_app.py; not run by default).
Results go to bench/results/<timestamp>.json.

``--otel both`` runs each target twice, side by side (column ``target@otel``): OpenTelemetry
trace export off, then on to a local OTLP/HTTP receiver that decodes and discards
(bench/otlp_sink.py). With export on, each phase's CPU window also covers the export of its
runs (it waits until the receiver has every run's root span), and the report gives server CPU
per step on/off (target ≤ 1.25x).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import datetime as dt
import http.client
import json
import math
import os
import platform
import queue
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from otlp_sink import OtlpSink

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
APPS = BENCH_DIR / "apps"
RESULTS_DIR = BENCH_DIR / "results"
EVENT_NAME = "bench/chain"
EVENT_KEY = "bench"
STEPS_PER_RUN = 3
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")
R = TypeVar("R")

TARGETS: dict[str, dict[str, float]] = {
    "sdk": {"steps_per_s": 360.0},
    # the same function on a Connect worker: at least the HTTP app's steps/s (issue 17)
    "connect": {"steps_per_s": 360.0},
    "minimal": {"steps_per_s": 1000.0, "cpu_us_per_step": 500.0, "seq_p50_ms": 9.0},
    # the official TS SDK (4.24), checkpointing on (its default) / off (issue 20; no targets yet)
    "ts": {},
    "ts-nocp": {},
}
APP_IDS = {
    "sdk": "bench-sdk",
    "connect": "bench-connect",
    "ts": "bench-ts",
    "ts-nocp": "bench-tsnocp",
}
# SDK requests per run a 3-step run needs: a checkpointing TS app runs all steps in one
CALLS_PER_RUN = {"ts": 1}
# The OTLP export (issue 18): `--otel both` adds the column target@otel, whose server exports
# every run's trace to a local receiver (SINK stands for its URL).
OTEL_VARIANT = "otel"
SINK = "@otlp-sink"
OTEL_CPU_RATIO = 1.25  # server CPU per step, export on over off
REFERENCES = (
    "For scale (same machine class): DBOS Transact ~180 steps/s and 9 ms p50 sequential "
    "3-step workflow; Celery+Redis ~305 tasks/s."
)


class BenchError(Exception):
    """A phase could not be completed; the message says why."""


# --------------------------------------------------------------------------------------------
# subprocesses


class ProcessGroup:
    """Every subprocess the benchmark starts; all stopped on exit, error or Ctrl-C."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                cmd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=REPO,
                start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
                preexec_fn=_die_with_parent,
            )
        self.procs.append(proc)
        return proc

    def stop(
        self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = 10.0
    ) -> int | None:
        """Signal one process, wait up to ``grace`` s, then SIGKILL. Returns its exit code."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
        if proc in self.procs:
            self.procs.remove(proc)
        return proc.returncode

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc, grace=5.0)


PROCS = ProcessGroup()


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the benchmark dies (even by SIGKILL)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def descendants(root: int) -> list[int]:
    """``root`` and all its live descendant pids."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(root: int) -> float:
    """utime+stime of ``root`` and its descendants (+ reaped children), in seconds."""
    ticks = 0
    for pid in descendants(root):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        ticks += int(fields[11]) + int(fields[12])
        if pid == root:
            ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


# --------------------------------------------------------------------------------------------
# HTTP


# uvicorn closes a keep-alive connection after 5 s idle; reconnect before that.
IDLE_REUSE_S = 2.0


class Http:
    """Keep-alive HTTP/1.1 client on one connection (stdlib, lowest overhead)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def request(
        self, method: str, path: str, body: Any = None, timeout: float | None = None
    ) -> tuple[int, Any]:
        """Send a request (JSON body if given); returns (status, parsed JSON or raw text)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.conn is not None and time.monotonic() - self.last_used > IDLE_REUSE_S:
            self.close()  # the server may have closed it meanwhile: a POST is never resent
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self.conn.timeout = timeout or self.timeout
            if self.conn.sock is not None:
                self.conn.sock.settimeout(timeout or self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                self.last_used = time.monotonic()
                return resp.status, _decode(raw)
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt or method != "GET":  # never resend a POST: events would double
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def wait_until(
    check: Callable[[], bool], deadline_s: float, interval: float = 0.05, what: str = ""
) -> float:
    """Call ``check`` until it returns True; BenchError after ``deadline_s``. Returns elapsed."""
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        try:
            if check():
                return time.monotonic() - start
        except (ConnectionError, http.client.HTTPException, OSError):
            pass
        time.sleep(interval)
    raise BenchError(f"timed out after {deadline_s:.0f} s waiting for {what}")


# --------------------------------------------------------------------------------------------
# statistics


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for an empty list."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values_s: list[float]) -> dict[str, Any]:
    ms = [v * 1000.0 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else None,
        "mean_ms": sum(ms) / len(ms) if ms else None,
    }


def parse_rfc3339(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# one benchmark session: server + app


@dataclass
class Session:
    target: str
    app_id: str
    workdir: Path
    args: argparse.Namespace
    problems: list[str] = field(default_factory=list)
    server: subprocess.Popen[bytes] | None = None
    server_pid: int = 0
    app: subprocess.Popen[bytes] | None = None
    server_port: int = 0
    app_port: int = 0
    api: Http = field(default_factory=lambda: Http(0))
    app_http: Http = field(default_factory=lambda: Http(0))
    profile_path: Path | None = None
    post_rtt: dict[str, list[float]] = field(default_factory=dict)
    cmd: list[str] = field(default_factory=list)
    variant_args: list[str] = field(default_factory=list)  # this column's extra server flags
    server_env: dict[str, str] = field(default_factory=dict)  # and its environment
    otel: OtlpSink | None = None  # export on: the server sends every run's trace here

    @property
    def slug(self) -> str:
        return f"{self.app_id}-chain"

    @property
    def app_url(self) -> str:
        return f"http://{HOST}:{self.app_port}/api/inngest"

    @property
    def server_url(self) -> str:
        return f"http://{HOST}:{self.server_port}"

    def problem(self, text: str) -> None:
        print(f"  ! {text}", flush=True)
        self.problems.append(text)

    # -- start / stop --------------------------------------------------------------------

    def start(self) -> None:
        self.server_port, self.app_port = free_port(), free_port()
        self.api, self.app_http = Http(self.server_port), Http(self.app_port)
        if self.target == "connect":  # the worker dials in: the server first
            self.start_server()
            self.start_app()
        else:
            self.start_app()
            self.start_server()
        self.wait_synced()

    def start_app(self) -> None:
        env = dict(os.environ, INNGEST_DEV="1", INNGEST_BASE_URL=self.server_url)
        env.pop("INNGEST_SIGNING_KEY", None)
        script = {"sdk": "sdk_app.py", "connect": "connect_app.py"}.get(
            self.target, "minimal_endpoint.py"
        )
        cmd = [sys.executable, str(APPS / script), "--port", str(self.app_port)]
        if self.target.startswith("ts"):
            node = shutil.which("node") or "node"
            cmd = [node, str(APPS / "ts_app.cjs"), "--port", str(self.app_port)]
            cmd += ["--no-checkpointing"] if self.target == "ts-nocp" else []
        cmd += ["--app-id", self.app_id]
        if self.target == "minimal":
            cmd += ["--server-url", self.server_url]
        log = self.workdir / f"app-{self.target}.log"
        self.app = PROCS.start(cmd, log, env)

        def ready() -> bool:
            if self.app is not None and self.app.poll() is not None:
                raise BenchError(f"app exited with {self.app.returncode}:\n{tail(log)}")
            status, _ = self.app_http.request("GET", "/bench/wait?phase=ready&n=0&secs=0")
            return status == 200

        wait_until(ready, 30.0, what=f"the {self.target} app on port {self.app_port}")

    def server_cmd(self) -> list[str]:
        db = self.workdir / "x.db"
        cmd = [sys.executable, "-m", "mainspring", "dev", "--db", str(db)]
        if self.target == "connect":  # the worker dials in; nothing to sync
            cmd += ["--connect-gateway-port", str(free_port())]
        else:
            cmd += ["-u", self.app_url]
        cmd += ["--no-discovery", "--port", str(self.server_port), "--host", HOST]
        flags = list(self.variant_args)
        if self.otel is not None:
            flags = [self.otel.url if word == SINK else word for word in flags]
        cmd += list(self.args.server_arg or []) + flags
        pyspy = shutil.which("py-spy") or shutil.which(
            "py-spy", path=str(Path(sys.executable).parent)
        )
        if self.args.profile and pyspy:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            fmt = self.args.profile_format
            ext = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}[fmt]
            self.profile_path = RESULTS_DIR / f"profile-{self.target}-{stamp}.{ext}"
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            spy = [pyspy, "record", "--rate", "200", "--format", fmt, "-o", str(self.profile_path)]
            cmd = [*spy, *(["--gil"] if self.args.profile_gil else []), "--", *cmd]
        elif self.args.profile:
            print("  (--profile: py-spy is not installed; running without it)")
        return cmd

    def start_server(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p
            for p in (self.args.server_pythonpath, str(REPO / "src"), env.get("PYTHONPATH", ""))
            if p
        )
        for key in list(env):
            if key.startswith("MAINSPRING_"):
                del env[key]
        env.update(self.server_env)
        log = self.workdir / "server.log"
        self.cmd = cmd = self.server_cmd()
        print(f"  server: {' '.join(cmd)}", flush=True)
        self.server = PROCS.start(cmd, log, env)

        def healthy() -> bool:
            if self.server is not None and self.server.poll() is not None:
                raise BenchError(f"server exited with {self.server.returncode}:\n{tail(log)}")
            status, body = self.api.request("GET", "/health")
            return status == 200 and isinstance(body, dict)

        took = wait_until(healthy, 30.0, what="server GET /health == 200")
        print(f"  server healthy after {took:.2f} s", flush=True)
        self.server_pid = self.server.pid
        if self.profile_path is not None:  # the server is py-spy's child
            kids = [p for p in descendants(self.server.pid) if p != self.server.pid]
            self.server_pid = kids[0] if kids else self.server.pid

    def wait_synced(self) -> None:
        last_put = time.monotonic()

        def synced() -> bool:
            nonlocal last_put
            status, body = self.api.request("GET", "/dev")
            if status == 200 and isinstance(body, dict):
                slugs = {f.get("slug") for f in body.get("functions") or [] if isinstance(f, dict)}
                if self.slug in slugs:
                    return True
            if (
                self.target != "connect" and time.monotonic() - last_put > 5.0
            ):  # nudge: anyone may PUT the app (§1.1)
                last_put = time.monotonic()
                self.problem("function not synced after 5 s; sending the sync PUT ourselves")
                self.app_http.request("PUT", "/api/inngest", {"url": self.app_url})
            return False

        took = wait_until(synced, 30.0, interval=0.05, what=f"sync of {self.slug} (GET /dev)")
        print(f"  synced {self.slug} after {took:.2f} s", flush=True)

    def stop(self) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if self.server is not None and self.server_pid not in (0, self.server.pid):
            self.stop_profiled_server()
        elif self.server is not None:
            t0 = time.monotonic()
            rc = PROCS.stop(self.server, signal.SIGTERM, grace=40.0)
            info = {"server_exit_code": rc, "server_stop_s": round(time.monotonic() - t0, 3)}
            if rc != 0:
                self.problem(f"server exited with code {rc} on SIGTERM (contract: 0)")
        if self.app is not None:
            PROCS.stop(self.app, signal.SIGTERM, grace=10.0)
        self.api.close()
        self.app_http.close()
        return info

    def stop_profiled_server(self) -> None:
        """SIGTERM the server under py-spy, then let py-spy write its flame graph and exit."""
        assert self.server is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.server_pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.server.wait(timeout=60.0)
        PROCS.stop(self.server, signal.SIGINT, grace=20.0)
        if self.profile_path is not None and not self.profile_path.exists():
            self.problem(f"py-spy wrote no profile (see {self.workdir / 'server.log'})")

    # -- driving ---------------------------------------------------------------------------

    def wait_exported(self, runs: int, deadline_s: float) -> None:
        """Export on: until the sink has the root span of `runs` runs (the export of a run
        follows its end by about a second; its CPU belongs to the phase that ran it)."""
        sink = self.otel
        if sink is None:
            return
        wait_until(lambda: sink.roots >= runs, deadline_s, what=f"{runs} runs' traces exported")

    def send(
        self, phase: str, count: int, start_index: int = 0, client: Http | None = None
    ) -> float:
        """POST ``count`` events in one request; returns the ``sent_at`` stamped in them."""
        sent_at = time.time()
        events = [
            {"name": EVENT_NAME, "data": {"sent_at": sent_at, "phase": phase, "i": start_index + k}}
            for k in range(count)
        ]
        status, body = (client or self.api).request("POST", f"/e/{EVENT_KEY}", events)
        self.post_rtt.setdefault(phase, []).append(time.time() - sent_at)
        if status != 200 or not isinstance(body, dict):
            raise BenchError(f"POST /e answered {status}: {str(body)[:300]}")
        ids = body.get("ids")
        if not isinstance(ids, list) or len(ids) != count:
            self.problem(f"POST /e: expected {count} ids, got {str(ids)[:120]}")
        if body.get("status") != 200:
            self.problem(f'POST /e body lacks "status":200: {str(body)[:120]}')
        return sent_at

    def wait_final(self, phase: str, n: int, deadline_s: float) -> dict[str, Any]:
        """Long-poll the app until ``n`` runs of ``phase`` had their final call."""
        end = time.monotonic() + deadline_s
        answer: dict[str, Any] = {}
        while time.monotonic() < end:
            secs = max(0.1, min(30.0, end - time.monotonic()))
            status, body = self.app_http.request(
                "GET", f"/bench/wait?phase={phase}&n={n}&secs={secs:.3f}", timeout=secs + 15.0
            )
            if status == 200 and isinstance(body, dict):
                answer = body
                if body.get("done"):
                    return body
            self.check_alive()
        raise BenchError(
            f"phase {phase}: only {answer.get('final', '?')}/{n} runs finished within "
            f"{deadline_s:.0f} s (SDK calls so far: {answer.get('calls', '?')})"
        )

    def check_alive(self) -> None:
        for name, proc in (("server", self.server), ("app", self.app)):
            if proc is not None and proc.poll() is not None:
                raise BenchError(f"{name} died with exit code {proc.returncode}")

    def app_stats(self) -> dict[str, Any]:
        status, body = self.app_http.request("GET", "/bench/stats", timeout=60.0)
        if status != 200 or not isinstance(body, dict):
            raise BenchError(f"GET /bench/stats answered {status}")
        return body

    def runs_of(self, stats: dict[str, Any], phase: str) -> dict[str, dict[str, Any]]:
        return {rid: r for rid, r in stats["runs"].items() if r.get("phase") == phase}

    def completed_runs(self, expected: int) -> dict[str, dict[str, Any]]:
        """Completed runs of the function according to ``GET /v1/runs``."""
        path = f"/v1/runs?function_id={self.slug}&status=Completed&limit={expected + 10}"
        status, body = self.api.request("GET", path, timeout=60.0)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise BenchError(f"GET {path} answered {status}: {str(body)[:200]}")
        return {r["run_id"]: r for r in body["data"] if isinstance(r, dict) and "run_id" in r}

    def fetch_runs(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        """``GET /v1/runs/{id}`` for each id (8 connections in parallel)."""

        def fetch(client: Http, rid: str) -> tuple[str, Any]:
            status, body = client.request("GET", f"/v1/runs/{rid}")
            ok = status == 200 and isinstance(body, dict) and isinstance(body.get("data"), dict)
            return rid, body["data"] if ok else None

        found = self.parallel(fetch, run_ids, self.clients(min(8, len(run_ids))))
        return {rid: data for rid, data in found if data is not None}

    def clients(self, n: int) -> queue.Queue[Http]:
        """``n`` connected keep-alive clients to the server (connect outside measurements)."""
        clients: queue.Queue[Http] = queue.Queue()
        for _ in range(max(1, n)):
            client = Http(self.server_port)
            client.request("GET", "/health")
            clients.put(client)
        return clients

    def parallel(
        self, fn: Callable[[Http, T], R], items: list[T], clients: queue.Queue[Http]
    ) -> list[R]:
        """Run ``fn(client, item)`` for all items, one thread per client; closes the clients."""

        def task(item: T) -> R:
            client = clients.get()
            try:
                return fn(client, item)
            finally:
                clients.put(client)

        try:
            with ThreadPoolExecutor(max_workers=clients.qsize()) as pool:
                return list(pool.map(task, items))
        finally:
            while not clients.empty():
                clients.get().close()


# --------------------------------------------------------------------------------------------
# phases


def phase_warmup(s: Session, n: int) -> None:
    if n <= 0:
        return
    s.send("warm", n)
    t0 = time.monotonic()
    s.wait_final("warm", n, s.args.timeout)
    s.wait_exported(n, s.args.timeout)
    print(f"  warm-up: {n} runs in {time.monotonic() - t0:.2f} s", flush=True)


def phase_throughput(s: Session) -> dict[str, Any]:
    runs, batch = s.args.runs, s.args.batch
    starts = list(range(0, runs, batch))
    clients = s.clients(min(s.args.send_concurrency, len(starts)))

    def send_batch(client: Http, start: int) -> float:
        return s.send("tp", min(batch, runs - start), start, client)

    work0 = database_work(s)
    cpu_app0 = cpu_seconds(s.app.pid) if s.app else 0.0
    cpu0 = cpu_seconds(s.server_pid)
    t_first = time.time()
    s.parallel(send_batch, starts, clients)
    t_sent = time.time()
    s.wait_final("tp", runs, s.args.timeout)
    t_seen = time.time()
    time.sleep(0.2)  # let the server store the last results before reading its CPU time
    s.wait_exported(min(s.args.warmup, runs) + runs, s.args.timeout)
    cpu1 = cpu_seconds(s.server_pid)
    cpu_app1 = cpu_seconds(s.app.pid) if s.app else 0.0
    work1 = database_work(s)
    return {
        "database_work": {k: work1[k] - work0[k] for k in work1 if k in work0},
        "t_first_send": t_first,
        "send_s": t_sent - t_first,
        "driver_saw_all_s": t_seen - t_first,
        "server_cpu_s": cpu1 - cpu0,
        "app_cpu_s": cpu_app1 - cpu_app0,
    }


def database_work(s: Session) -> dict[str, float]:
    """The server's statements/transactions/round trips so far (`GET /health`)."""
    status, body = s.api.request("GET", "/health")
    work = body.get("database_work") if status == 200 and isinstance(body, dict) else None
    if not isinstance(work, dict):
        return {}
    return {k: v for k, v in work.items() if isinstance(v, (int, float))}


def measure_floor(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    """Python's per-request floor on this machine now: a bare ASGI echo under uvicorn, POSTed
    the size of an SDK call by ``--send-concurrency`` keep-alive clients; its CPU per request."""
    port, n = free_port(), max(2000, args.runs * 2)
    proc = PROCS.start(
        [sys.executable, str(APPS / "echo_asgi.py"), "--port", str(port)],
        base / "echo.log",
        dict(os.environ),
    )
    try:
        probe = Http(port)
        wait_until(lambda: probe.request("GET", "/")[0] == 200, 30.0, what="the ASGI echo")
        body = {"event": {"name": EVENT_NAME, "data": {"sent_at": 0.0}}, "steps": {}, "ctx": {}}
        clients: queue.Queue[Http] = queue.Queue()
        for _ in range(args.send_concurrency):
            clients.put(Http(port))

        def post(client: Http, _: int) -> None:
            client.request("POST", "/api/inngest?fnId=x&stepId=step", body)

        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        Session("floor", "", base, args).parallel(post, list(range(n)), clients)
        wall, cpu = time.monotonic() - t0, cpu_seconds(proc.pid) - cpu0
        probe.close()
    finally:
        PROCS.stop(proc)
    result = {"requests": n, "requests_per_s": n / wall, "server_cpu_us_per_request": cpu / n * 1e6}
    print(
        f"[floor] bare uvicorn ASGI echo: {result['requests_per_s']:,.0f} req/s, "
        f"{result['server_cpu_us_per_request']:,.0f} µs server CPU per request",
        flush=True,
    )
    return result


def phase_sequential(s: Session) -> dict[str, Any]:
    n = s.args.seq_runs
    observed: list[float] = []
    end = time.monotonic() + s.args.timeout
    for i in range(n):
        if time.monotonic() > end:
            s.problem(f"sequential phase stopped at the deadline after {i} runs")
            break
        sent_at = s.send("seq", 1, i)
        s.wait_final("seq", i + 1, max(1.0, end - time.monotonic()))
        observed.append(time.time() - sent_at)
    post = summary_ms(s.post_rtt.get("seq", []))
    if (post["p50_ms"] or 0.0) > 20.0:
        s.problem(
            f"POST /e of one event takes {post['p50_ms']:.1f} ms (p50) to answer: the classic "
            "40 ms Nagle/delayed-ACK stall (server socket without TCP_NODELAY?)"
        )
    return {"driver_observed": summary_ms(observed), "post_e_round_trip": post}


def analyse_throughput(
    s: Session, tp: dict[str, Any], runs: dict[str, dict[str, Any]], server_runs: dict[str, Any]
) -> dict[str, Any]:
    n = len(runs)
    finals = [r["final"] for r in runs.values() if r.get("final")]
    wall = max(finals) - tp["t_first_send"] if finals else float("nan")
    ended = [parse_rfc3339(server_runs.get(rid, {}).get("ended_at")) for rid in runs]
    ended_ok = [e for e in ended if e is not None]
    wall_server = (max(ended_ok) - tp["t_first_send"]) if len(ended_ok) == n and n else None
    first = [r["first"] - r["sent_at"] for r in runs.values() if r.get("sent_at")]
    steps = n * STEPS_PER_RUN
    return {
        "runs": n,
        "steps": steps,
        "wall_s": wall,
        "runs_per_s": n / wall if wall > 0 else None,
        "steps_per_s": steps / wall if wall > 0 else None,
        "wall_to_server_ended_at_s": wall_server,
        "steps_per_s_by_ended_at": steps / wall_server if wall_server else None,
        "send_s": tp["send_s"],
        "event_to_first_call": summary_ms(first),
        "server_cpu_s": tp["server_cpu_s"],
        "server_cpu_us_per_step": tp["server_cpu_s"] / steps * 1e6 if steps else None,
        **{
            f"{k}_per_run": v / n
            for k, v in (tp.get("database_work") or {}).items()
            if n and k in ("statements", "transactions")
        },
        "app_cpu_us_per_step": tp["app_cpu_s"] / steps * 1e6 if steps else None,
    }


def analyse_sequential(
    runs: dict[str, dict[str, Any]], server_runs: dict[str, Any], seq: dict[str, Any]
) -> dict[str, Any]:
    lat = [r["final"] - r["sent_at"] for r in runs.values() if r.get("final") and r.get("sent_at")]
    first = [r["first"] - r["sent_at"] for r in runs.values() if r.get("sent_at")]
    by_ended = []
    for rid, r in runs.items():
        ended = parse_rfc3339(server_runs.get(rid, {}).get("ended_at"))
        if ended is not None and r.get("sent_at"):
            by_ended.append(ended - r["sent_at"])
    return {
        "runs": len(runs),
        "latency_final_call": summary_ms(lat),
        "latency_server_ended_at": summary_ms(by_ended),
        "event_to_first_call": summary_ms(first),
        "driver_observed": seq["driver_observed"],
        "post_e_round_trip": seq["post_e_round_trip"],
    }


def check_runs(s: Session, stats: dict[str, Any], expected: int) -> dict[str, Any]:
    """Confirm with the server API that every run the app finished is Completed."""
    all_runs: dict[str, dict[str, Any]] = stats["runs"]
    listed: dict[str, dict[str, Any]] = {}
    info: dict[str, Any] = {}

    def all_completed() -> bool:
        batch = s.completed_runs(expected)
        info["listed_by_query"] = len(batch)
        listed.update(batch)
        missing = [rid for rid in all_runs if rid not in listed]
        if missing:  # the listing may be capped (no cursor): ask for the rest one by one
            fetched = s.fetch_runs(missing)
            statuses: dict[str, int] = {}
            info["statuses_of_unlisted"] = statuses
            for rid in missing:
                st = str(fetched.get(rid, {}).get("status", "unknown"))
                statuses[st] = statuses.get(st, 0) + 1
                if st == "Completed":
                    listed[rid] = fetched[rid]
        return all(rid in listed for rid in all_runs)

    try:
        wait_until(all_completed, 20.0, interval=0.25, what="all runs Completed per the API")
    except BenchError as exc:
        s.problem(f"{exc}: {len(listed)}/{len(all_runs)}; others: {info}")
    calls = [int(r.get("calls", 0)) for r in all_runs.values()]
    ideal = CALLS_PER_RUN.get(s.target, STEPS_PER_RUN + 1)
    extra = sum(c - ideal for c in calls)
    dups = sum(int(r.get("dup_final", 0)) for r in all_runs.values())
    if extra:
        s.problem(f"{extra} SDK calls beyond the {ideal} per run a 3-step run needs")
    if dups:
        s.problem(f"{dups} duplicate final calls (run re-executed after it returned 200)")
    outputs_ok = sum(1 for r in listed.values() if r.get("output") == {"total": 25})
    if listed and outputs_ok != len(listed):
        s.problem(f"{len(listed) - outputs_ok} completed runs do not have output {{'total': 25}}")
    return {
        **info,
        "runs_seen_by_app": len(all_runs),
        "runs_completed_per_api": sum(1 for rid in all_runs if rid in listed),
        "sdk_calls": sum(calls),
        "sdk_calls_per_run": sum(calls) / len(calls) if calls else None,
        "extra_calls": extra,
        "duplicate_final_calls": dups,
        "server_runs": listed,
    }


def run_target(
    target: str,
    args: argparse.Namespace,
    base: Path,
    variant: tuple[str, list[str]] = ("", []),
    label: str = "",
) -> dict[str, Any]:
    app_id = APP_IDS.get(target, "bench-min")
    label = label or column_name(target, variant[0])
    workdir = base / f"{label.replace('@', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
    workdir.mkdir(parents=True, exist_ok=False)
    flags, env = split_variant(variant[1])
    s = Session(target=target, app_id=app_id, workdir=workdir, args=args, variant_args=flags)
    s.server_env = env
    result: dict[str, Any] = {"target": target, "variant": variant[0], "workdir": str(workdir)}
    s.otel = OtlpSink() if SINK in flags else None
    try:
        print(f"[{label}] starting (work dir {workdir})", flush=True)
        s.start()
        result["server_cmd"] = s.cmd
        phase_warmup(s, min(args.warmup, args.runs))
        print(f"[{target}] throughput: {args.runs} runs in flight", flush=True)
        tp = phase_throughput(s)
        print(f"[{target}] sequential: {args.seq_runs} runs one after another", flush=True)
        seq = phase_sequential(s)
        stats = s.app_stats()
        total = args.runs + args.seq_runs + min(args.warmup, args.runs)
        checked = check_runs(s, stats, total)
        server_runs = checked.pop("server_runs")
        result["throughput"] = analyse_throughput(s, tp, s.runs_of(stats, "tp"), server_runs)
        result["sequential"] = analyse_sequential(s.runs_of(stats, "seq"), server_runs, seq)
        result["checks"] = checked
    except BenchError as exc:
        s.problem(f"aborted: {exc}")
        result["error"] = str(exc)
        result["server_log_tail"] = tail(workdir / "server.log", 30)
    finally:
        result.update(s.stop())
        result["profile"] = str(s.profile_path) if s.profile_path else None
        result["problems"] = s.problems
        if s.otel is not None:
            result["otlp"] = {"spans": s.otel.spans, "runs": s.otel.roots}
            s.otel.close()
    return result


def split_variant(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """A variant's words: `NAME=value` with an upper-case NAME sets the server's environment
    (settings that have no flag, e.g. MAINSPRING_ROLLUP_INTERVAL=0), the rest are flags."""
    env = {}
    flags = []
    for word in words:
        name, sep, value = word.partition("=")
        if sep and name.isupper() and name.replace("_", "").isalnum():
            env[name] = value
        else:
            flags.append(word)
    return flags, env


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [v for r in runs if (v := _get(r, "throughput", key)) is not None]
    return statistics.median(values) if values else None


# --------------------------------------------------------------------------------------------
# report


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _get(res: dict[str, Any] | None, *path: str) -> Any:
    cur: Any = res
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def _verdict(value: Any, target: float | None, higher_is_better: bool) -> str:
    if target is None:
        return ""
    if not isinstance(value, (int, float)) or math.isnan(value):
        return "(n/a)"
    ok = value >= target if higher_is_better else value <= target
    return "PASS" if ok else "FAIL"


ROWS: list[tuple[str, tuple[str, ...], str | None, bool, int]] = [
    # label, path in result, target key, higher is better, digits
    ("throughput: runs/s", ("throughput", "runs_per_s"), None, True, 1),
    ("throughput: steps/s", ("throughput", "steps_per_s"), "steps_per_s", True, 1),
    ("  (steps/s to server ended_at)", ("throughput", "steps_per_s_by_ended_at"), None, True, 1),
    ("  wall time, s", ("throughput", "wall_s"), None, True, 3),
    ("  time to send all events, s", ("throughput", "send_s"), None, True, 3),
    (
        "event→first call p50, ms (load)",
        ("throughput", "event_to_first_call", "p50_ms"),
        None,
        False,
        2,
    ),
    (
        "event→first call p99, ms (load)",
        ("throughput", "event_to_first_call", "p99_ms"),
        None,
        False,
        2,
    ),
    (
        "event→first call p50, ms (idle)",
        ("sequential", "event_to_first_call", "p50_ms"),
        None,
        False,
        2,
    ),
    (
        "event→first call p99, ms (idle)",
        ("sequential", "event_to_first_call", "p99_ms"),
        None,
        False,
        2,
    ),
    (
        "sequential 3-step p50, ms",
        ("sequential", "latency_final_call", "p50_ms"),
        "seq_p50_ms",
        False,
        2,
    ),
    ("sequential 3-step p99, ms", ("sequential", "latency_final_call", "p99_ms"), None, False, 2),
    (
        "  p50 to server ended_at, ms",
        ("sequential", "latency_server_ended_at", "p50_ms"),
        None,
        False,
        2,
    ),
    ("  p50 seen by the driver, ms", ("sequential", "driver_observed", "p50_ms"), None, False, 2),
    ("POST /e (1 event) p50, ms", ("sequential", "post_e_round_trip", "p50_ms"), None, False, 2),
    ("server CPU µs/step", ("throughput", "server_cpu_us_per_step"), "cpu_us_per_step", False, 0),
    ("app CPU µs/step", ("throughput", "app_cpu_us_per_step"), None, False, 0),
    ("db statements per run", ("throughput", "statements_per_run"), None, False, 2),
    ("db transactions per run", ("throughput", "transactions_per_run"), None, False, 2),
    ("SDK calls per run (ideal 4, ts 1)", ("checks", "sdk_calls_per_run"), None, False, 3),
    ("runs Completed (API) / seen", ("checks", "runs_completed_per_api"), None, True, 0),
]


def column_name(target: str, variant: str) -> str:
    """`sdk`, or `sdk@power` for the target run with the variant's server flags."""
    return f"{target}@{variant}" if variant else target


def median_result(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several rounds of one column: the median of every number, the first
    round's value of everything else (problems of all rounds are kept)."""
    if len(rounds) == 1:
        return rounds[0]
    merged: dict[str, Any] = {}
    for key, first in rounds[0].items():
        values = [r.get(key) for r in rounds]
        if isinstance(first, dict):
            merged[key] = median_result([v for v in values if isinstance(v, dict)])
        elif isinstance(first, (int, float)) and not isinstance(first, bool):
            numbers = [v for v in values if isinstance(v, (int, float)) and not math.isnan(v)]
            merged[key] = statistics.median(numbers) if numbers else first
        else:
            merged[key] = first
    merged["problems"] = [p for r in rounds for p in r.get("problems", [])]
    if any("error" in r for r in rounds):
        merged["error"] = "; ".join(str(r["error"]) for r in rounds if "error" in r)
    return merged


def render_ratios(results: dict[str, dict[str, Any]]) -> str:
    """Each variant against its plain target, measured in the same run."""
    lines = []
    for name, res in results.items():
        target, _, variant = name.partition("@")
        base = results.get(target)
        if not variant or base is None:
            continue
        parts = []
        for label, path in (
            ("steps/s", ("throughput", "steps_per_s")),
            ("server CPU/step", ("throughput", "server_cpu_us_per_step")),
            ("seq p50", ("sequential", "latency_final_call", "p50_ms")),
        ):
            ours, theirs = _get(res, *path), _get(base, *path)
            if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
                parts.append(f"{label} {ours / theirs:.2f}x")
        lines.append(f"{name} / {target}: " + ", ".join(parts))
    return "\n".join(lines)


def render_table(results: dict[str, dict[str, Any]]) -> str:
    order = ("sdk", "connect", "ts", "ts-nocp", "minimal")
    cols = sorted(results, key=lambda c: (order.index(c.partition("@")[0]), c))
    names = {
        "sdk": "(a) real SDK app",
        "connect": "(c) SDK Connect worker",
        "minimal": "(b) minimal endpoint",
        "ts": "(d) TS SDK",
        "ts-nocp": "(e) TS SDK, no checkpoints",
    }
    heads = {
        c: names[c.partition("@")[0]] + (f" @{c.partition('@')[2]}" if "@" in c else "")
        for c in cols
    }
    header = ["metric"]
    for t in cols:
        header += [heads[t], "target", ""]
    lines: list[list[str]] = [header]
    for label, path, tkey, higher, digits in ROWS:
        row = [label]
        for t in cols:
            value = _get(results[t], *path)
            if label.startswith("runs Completed"):
                shown = f"{_fmt(value)} / {_fmt(_get(results[t], 'checks', 'runs_seen_by_app'))}"
            else:
                shown = _fmt(value, digits)
            target = TARGETS[t.partition("@")[0]].get(tkey) if tkey else None
            sign = "≥" if higher else "≤"
            row += [
                shown,
                f"{sign} {target:,.0f}" if target else "",
                _verdict(value, target, higher),
            ]
        lines.append(row)
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    out = []
    for k, r in enumerate(lines):
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if k == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def otel_ratios(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Server CPU per step with the OTLP export on over off, per target run both ways."""
    ratios: dict[str, float] = {}
    for target in TARGETS:
        off = _get(results.get(target), "throughput", "server_cpu_us_per_step")
        on = _get(results.get(f"{target}@{OTEL_VARIANT}"), "throughput", "server_cpu_us_per_step")
        if isinstance(off, (int, float)) and isinstance(on, (int, float)) and off > 0:
            ratios[target] = on / off
    return ratios


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    rev = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_rev": rev,
    }


def save_json(data: dict[str, Any], out: Path | None) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = out or RESULTS_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    return path


# --------------------------------------------------------------------------------------------
# main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Mainspring core benchmark (3-step function).")
    p.add_argument("--runs", type=int, default=1000, help="runs in the throughput phase")
    p.add_argument("--batch", type=int, default=100, help="events per POST /e request")
    p.add_argument(
        "--send-concurrency",
        type=int,
        default=10,
        help="POST /e requests in flight at once in the throughput phase (default 10)",
    )
    p.add_argument("--seq-runs", type=int, default=200, help="runs in the sequential phase")
    p.add_argument("--warmup", type=int, default=50, help="warm-up runs (not measured)")
    p.add_argument(
        "--targets",
        default="sdk,minimal",
        help="comma list of: sdk, connect, minimal, ts (TS SDK, checkpointing), ts-nocp",
    )
    p.add_argument(
        "--db-dir",
        type=Path,
        default=None,
        help="where the fresh SQLite dbs and logs go (default: a temp dir, removed)",
    )
    p.add_argument(
        "--timeout", type=float, default=300.0, help="deadline in seconds for each phase"
    )
    p.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra argument for `mainspring dev` (repeatable, use --server-arg=--x)",
    )
    p.add_argument(
        "--server-pythonpath",
        default="",
        help="put this first on the server's PYTHONPATH (e.g. to bench a stub server)",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=FLAGS",
        help="also run each target with these server flags (space-separated), as column "
        "target@NAME, e.g. --variant 'power=--durability power' (repeatable)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="interleaved rounds of every column; the table shows medians (default 1)",
    )
    p.add_argument(
        "--otel",
        choices=("off", "both"),
        default="off",
        help="both: also run each target with the OTLP trace export on (column target@otel), "
        "to a local receiver, and judge server CPU per step on/off",
    )
    p.add_argument("--profile", action="store_true", help="run the server under py-spy record")
    p.add_argument(
        "--floor",
        action="store_true",
        help="first measure a bare uvicorn ASGI echo's CPU per request (Python's floor)",
    )
    p.add_argument(
        "--profile-format",
        choices=("flamegraph", "raw", "speedscope"),
        default="flamegraph",
        help="py-spy output: flamegraph (.svg), raw collapsed stacks (.txt), speedscope (.json)",
    )
    p.add_argument(
        "--profile-gil",
        action="store_true",
        help="py-spy --gil: sample only the thread holding the GIL (no idle samples)",
    )
    p.add_argument(
        "--json-out", type=Path, default=None, help="results file (default bench/results/<ts>.json)"
    )
    args = p.parse_args(argv)
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    bad = [t for t in args.targets if t not in TARGETS]
    if bad or args.runs < 1 or args.batch < 1 or args.seq_runs < 0 or args.rounds < 1:
        p.error(f"bad --targets {bad}" if bad else "--runs/--batch/--rounds must be >= 1")
    args.variants = [("", [])]
    for spec in args.variant:
        name, sep, flags = spec.partition("=")
        if not sep or not name or "@" in name:
            p.error(f"bad --variant {spec!r}: expected NAME=FLAGS")
        args.variants.append((name, shlex.split(flags)))
    if args.otel == "both":
        args.variants.append((OTEL_VARIANT, ["--otel-endpoint", SINK]))
    return args


@contextlib.contextmanager
def work_base(db_dir: Path | None, keep: Callable[[], bool]) -> Iterator[Path]:
    """The directory for dbs and logs; a temp dir is removed afterwards unless ``keep()``."""
    if db_dir is not None:
        db_dir.mkdir(parents=True, exist_ok=True)
        yield db_dir.resolve()
        return
    tmp = Path(tempfile.mkdtemp(prefix="mainspring-bench-"))
    try:
        yield tmp
    finally:
        if keep():
            print(f"(logs and dbs kept in {tmp})", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atexit.register(PROCS.stop_all)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    rounds: dict[str, list[dict[str, Any]]] = {}
    floor: dict[str, Any] | None = None
    started = dt.datetime.now(dt.UTC)
    try:

        def keep() -> bool:
            return any("error" in r for rs in rounds.values() for r in rs)

        with work_base(args.db_dir, keep) as base:
            if args.floor:
                floor = measure_floor(args, base)
            # interleaved: every column once per round, so drift on a noisy machine hits all
            for n in range(args.rounds):
                for target in args.targets:
                    for variant in args.variants:
                        name = column_name(target, variant[0])
                        label = f"{name} round {n + 1}" if args.rounds > 1 else name
                        res = run_target(target, args, base, variant, label)
                        rounds.setdefault(name, []).append(res)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping subprocesses", file=sys.stderr)
        PROCS.stop_all()
        return 130
    finally:
        PROCS.stop_all()
    results = {name: median_result(rs) for name, rs in rounds.items()}
    print()
    print(
        f"Mainspring core benchmark — 3-step function, SQLite, {args.runs} runs in flight "
        f"(batches of {args.batch}), {args.seq_runs} sequential runs"
    )
    print(render_table(results))
    ratios = render_ratios(results)
    if ratios:
        print()
        print(ratios)
    ratios_otel = otel_ratios(results)
    for target, ratio in ratios_otel.items():
        verdict = "PASS" if ratio <= OTEL_CPU_RATIO else "FAIL"
        print(f"OTLP export on/off, server CPU per step ({target}): {ratio:.3f}x ", end="")
        print(f"(target ≤ {OTEL_CPU_RATIO}x) {verdict}")
    print()
    print(REFERENCES)
    if floor is not None:
        print(
            f"Python's per-request floor (bare uvicorn ASGI echo, same run): "
            f"{floor['server_cpu_us_per_request']:,.0f} µs server CPU per request"
        )
    problems = {t: r.get("problems", []) for t, r in results.items() if r.get("problems")}
    for t, plist in problems.items():
        print(f"\nproblems seen with target {t}:")
        for text in plist:
            print(f"  - {text}")
    data = {
        "started_at": started.isoformat(),
        "argv": sys.argv,
        "machine": machine_info(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "targets": TARGETS,
        "references": REFERENCES,
        "results": results,
        "rounds": rounds,
        "floor": floor,
        "otel_cpu_ratio": ratios_otel,
    }
    path = save_json(data, args.json_out)
    print(f"\nresults saved to {path}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
