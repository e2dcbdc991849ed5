"""Scaling benchmark: SQLite vs 1, 2 and 3 Mainspring processes on one PostgreSQL database.

Usage (from the repository root)::

    .venv/bin/python bench/bench_scaling.py [--runs 2000] [--rounds 3] [--configs sqlite,pg1,pg3]

The workload is bench_core.py's target (b): the minimal hand-written SDK-protocol endpoint
(bench/apps/minimal_endpoint.py) serving a 3-step function (4 SDK calls per run). For each
configuration a fresh endpoint, a fresh database and fresh server processes are started:

* ``sqlite``: one process, ``python -m mainspring dev --db <dir>/x.db …``;
* ``pg<N>``: N processes on one fresh PostgreSQL database ``ms_bench_<N>`` (created with
  ``CREATE DATABASE`` through ``--pg-admin-url``, dropped afterwards),
  ``python -m mainspring dev --db postgresql://…/ms_bench_<N> -u <endpoint> --no-discovery
  --port <free>`` each; every process syncs the same endpoint.

All configurations are started together and their throughput rounds are taken in turn
(round 1 of each configuration, then round 2 of each, …), so a disturbance of the shared
machine hits every column alike and the ratios hold better than the absolute figures.

Events are spread round-robin over the processes' ``POST /e/bench`` (any process may run any
run: they all lease from the same queue). Measured per configuration, with bench_core's method
(events carry ``sent_at``, the endpoint records the first and the final call of every run):

1. throughput: ``--rounds`` x ``--runs`` runs in flight (batches of ``--batch`` per request,
   ``--send-concurrency`` requests at once); steps/s = steps / (first send -> last final call),
   median over the rounds; event -> first call p50/p99 under that load;
2. server CPU per step: utime+stime (/proc/<pid>/stat) summed over all Mainspring processes;
3. database work per step: ``GET /health`` -> ``database_work`` {statements, transactions,
   round_trips} of every process, read before and after each throughput round, summed, divided
   by the steps. On PostgreSQL a round trip is a wait for the server's answer: statements whose
   outcome is not needed go out in pipeline mode and share the next wait, BEGIN travels with
   the first statement and NOTIFY with COMMIT. On SQLite (no network) every statement, BEGIN
   and COMMIT counts as one;
4. idle: ``--seq-runs`` runs one after another (round-robin too): event -> first call p50/p99
   with nothing else to do, and the 3-step latency.

Then it checks that every run had exactly 4 SDK calls and is ``Completed`` per the API, and
scans the server logs for errors. Results: bench/results/scaling-<timestamp>.json. Every
subprocess and every database it created is removed on exit, error or Ctrl-C; every wait has a
deadline (``--timeout`` per phase, ``--max-minutes`` overall).
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import http.client
import os
import re
import signal
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import bench_core as core  # noqa: E402  (processes, HTTP, CPU, stats, report helpers)

HOST = core.HOST
STEPS_PER_RUN = core.STEPS_PER_RUN
CALLS_PER_RUN = STEPS_PER_RUN + 1
RESULTS_DIR = BENCH_DIR / "results"
APP_ID = "bench-min"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "ms_bench_"
TARGET_PG1_RATIO = 0.67  # PostgreSQL (1 process) steps/s over SQLite steps/s, at least
WORK_KEYS = ("statements", "transactions", "round_trips")  # GET /health database_work
TARGET_ROUND_TRIPS = 3.0  # database round trips per step on the hot path, at most
OTHER_CPU_LIMIT = 0.15  # cores used by unrelated processes during the rounds: figures disturbed
CONFIG_NAMES = ("sqlite", "pg1", "pg2", "pg3")
LOG_PROBLEM = re.compile(r" (ERROR|CRITICAL) |Traceback \(most recent call last\)")
LOG_WARNING = re.compile(r" WARNING ")
NOTE_CORES = (
    "Note: on a 2-core machine the endpoint, the driver, PostgreSQL and the N servers share the "
    "same 2 cores, so more processes cannot show linear scaling here: the pg2/pg3 columns show "
    "that several processes cooperate correctly on one database and what the coordination "
    "costs (CPU and database work per step), not the speed-up on separate machines."
)


# --------------------------------------------------------------------------------------------
# databases


class Databases:
    """Fresh PostgreSQL databases for the configurations; all dropped on exit."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def _run(self, statement: sql.SQL | sql.Composed) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)

    def wait_ready(self, deadline_s: float) -> None:
        """Wait until PostgreSQL accepts connections (it may be restarting)."""
        end = time.monotonic() + deadline_s
        while True:
            try:
                self._run(sql.SQL("SELECT 1"))
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > end:
                    raise core.BenchError(f"PostgreSQL unreachable: {exc}") from None
                time.sleep(1.0)

    def create(self, name: str) -> str:
        """(Re)create ``name``; returns its URL (the admin URL with the database swapped)."""
        self.wait_ready(60.0)
        self.drop(name)  # a leftover of an interrupted run of this script
        self._run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return database_url(self.admin_url, name)

    def drop(self, name: str) -> None:
        self._run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            try:
                self.drop(name)
            except psycopg.Error as exc:
                print(f"could not drop database {name}: {exc}", file=sys.stderr)

    def postmaster_started(self) -> str | None:
        """When the PostgreSQL server started (a change means it restarted meanwhile)."""
        try:
            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
                row = conn.execute("SELECT pg_postmaster_start_time()::text").fetchone()
        except psycopg.Error:
            return None
        return str(row[0]) if row else None


def database_url(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


def machine_busy_seconds() -> float:
    """Non-idle CPU time of the whole machine so far (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / core.CLK_TCK


def driver_cpu_seconds() -> float:
    """This process's own CPU time (all threads, not its children)."""
    t = os.times()
    return t.user + t.system


def postgres_cpu_seconds() -> float:
    """utime+stime of every ``postgres`` process on the machine (backends and helpers)."""
    total = 0.0
    for path in Path("/proc").iterdir():
        if not path.name.isdigit():
            continue
        try:
            raw = (path / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.find("(") + 1 : raw.rfind(")")]
        if name.startswith("postgres"):
            fields = raw[raw.rfind(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / core.CLK_TCK
    return total


# --------------------------------------------------------------------------------------------
# servers


@dataclass
class Server(core.Session):
    """One Mainspring process of a configuration; bench_core's Session with a chosen --db.

    Server 0 also owns the endpoint (``app``); the others share its port and leave ``app``
    None. ``peers`` lets any long poll notice that another process died.
    """

    db: str = ""
    index: int = 0
    peers: list[Server] = field(default_factory=list)

    def server_cmd(self) -> list[str]:
        cmd = [sys.executable, "-m", "mainspring", "dev", "--db", self.db, "-u", self.app_url]
        cmd += ["--no-discovery", "--port", str(self.server_port), "--host", HOST]
        return cmd + list(self.args.server_arg or [])

    def check_alive(self) -> None:
        super().check_alive()
        for peer in self.peers:
            if peer.server is not None and peer.server.poll() is not None:
                raise core.BenchError(
                    f"server {peer.index} died with exit code {peer.server.returncode}"
                )

    def database_work(self) -> dict[str, int]:
        status, body = self.api.request("GET", "/health", timeout=10.0)
        work = body.get("database_work") if isinstance(body, dict) else None
        if status != 200 or not isinstance(work, dict):
            raise core.BenchError(f"server {self.index}: GET /health answered {status}: {body}")
        return {key: int(work[key]) for key in WORK_KEYS}


@dataclass
class Config:
    name: str
    processes: int
    label: str
    db_name: str | None = None  # PostgreSQL database, None for SQLite


def configs_from(names: list[str]) -> list[Config]:
    out = []
    for name in names:
        if name == "sqlite":
            out.append(Config("sqlite", 1, "SQLite, 1 proc"))
        else:
            n = int(name[2:])
            label = f"PG, {n} proc" + ("s" if n > 1 else "")
            out.append(Config(name, n, label, f"{DB_PREFIX}{n}"))
    return out


class Cluster:
    """The endpoint plus the configuration's servers."""

    def __init__(self, cfg: Config, db: str, workdir: Path, args: argparse.Namespace) -> None:
        self.cfg = cfg
        self.args = args
        self.workdir = workdir
        self.problems: list[str] = []
        self.servers: list[Server] = []
        for i in range(cfg.processes):
            sub = workdir / f"server-{i}"
            sub.mkdir(parents=True, exist_ok=True)
            server = Server(
                target="minimal",
                app_id=APP_ID,
                workdir=sub,
                args=args,
                problems=self.problems,
                db=db,
                index=i,
            )
            self.servers.append(server)
        for server in self.servers:
            server.peers = [p for p in self.servers if p is not server]
        self.lead = self.servers[0]

    @property
    def endpoint_log(self) -> Path:
        return self.lead.workdir / "app-minimal.log"

    def start(self) -> None:
        lead = self.lead
        for server in self.servers:
            server.server_port = core.free_port()
            server.api = core.Http(server.server_port)
        lead.app_port = core.free_port()
        lead.app_http = core.Http(lead.app_port)
        lead.start_app()  # registers through server 0 (its INNGEST_BASE_URL)
        for server in self.servers[1:]:
            server.app_port = lead.app_port
            server.app_http = core.Http(lead.app_port)
        # One after another, from this thread: server 0 migrates the fresh database alone, and
        # a child started from a worker thread would get PR_SET_PDEATHSIG when that thread ends.
        for server in self.servers:
            server.start_server()
        for server in self.servers:  # each process must know the function
            server.wait_synced()

    def stop(self) -> list[dict[str, Any]]:
        """Stop the other servers, then server 0 and the endpoint; exit codes per process."""
        infos: list[dict[str, Any]] = [{} for _ in self.servers]
        for server in [*self.servers[1:], self.lead]:
            try:
                infos[server.index] = server.stop()
            except Exception as exc:  # keep stopping the rest
                self.problem(f"stopping server {server.index}: {exc!r}")
        return infos

    def problem(self, text: str) -> None:
        self.lead.problem(text)

    # -- measurements ------------------------------------------------------------------------

    def cpu(self) -> list[float]:
        return [core.cpu_seconds(s.server_pid) for s in self.servers]

    def database_work(self) -> list[dict[str, int]]:
        return [s.database_work() for s in self.servers]

    def send_round_robin(self, phase: str, runs: int) -> float:
        """All of ``phase``'s events, batch i to server i mod N; returns the time of the first."""
        batch, n = self.args.batch, len(self.servers)
        items = [(k % n, start) for k, start in enumerate(range(0, runs, batch))]
        per_server = max(1, -(-self.args.send_concurrency // n))
        pools = [s.clients(min(per_server, len(items))) for s in self.servers]

        def send(item: tuple[int, int]) -> float:
            idx, start = item
            client = pools[idx].get()
            try:
                return self.servers[idx].send(phase, min(batch, runs - start), start, client)
            finally:
                pools[idx].put(client)

        t_first = time.time()
        try:
            with ThreadPoolExecutor(max_workers=max(1, self.args.send_concurrency)) as ex:
                list(ex.map(send, items))
        finally:
            for q in pools:
                while not q.empty():
                    q.get().close()
        return t_first

    def throughput_round(self, phase: str, deadline_s: float) -> dict[str, Any]:
        runs = self.args.runs
        work0, cpu0 = self.database_work(), self.cpu()
        pg0 = postgres_cpu_seconds()
        app0 = core.cpu_seconds(self.lead.app.pid) if self.lead.app else 0.0
        me0, busy0, wall0 = driver_cpu_seconds(), machine_busy_seconds(), time.time()
        t_first = self.send_round_robin(phase, runs)
        t_sent = time.time()
        self.lead.wait_final(phase, runs, deadline_s)
        time.sleep(0.2)  # let the servers store the last results (as bench_core does)
        cpu1, work1 = self.cpu(), self.database_work()
        pg1 = postgres_cpu_seconds()
        app1 = core.cpu_seconds(self.lead.app.pid) if self.lead.app else 0.0
        me1, busy1, wall1 = driver_cpu_seconds(), machine_busy_seconds(), time.time()
        per_cpu = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
        per_work = [
            {k: after[k] - before[k] for k in WORK_KEYS}
            for before, after in zip(work0, work1, strict=True)
        ]
        return {
            "phase": phase,
            "t_first_send": t_first,
            "send_s": t_sent - t_first,
            "server_cpu_s": sum(per_cpu),
            "server_cpu_s_per_process": per_cpu,
            "app_cpu_s": app1 - app0,
            "postgres_cpu_s": pg1 - pg0,
            "driver_cpu_s": me1 - me0,
            "machine_busy_s": busy1 - busy0,
            # everything else on the machine (tests, other tools): should be close to 0
            "other_cpu_s": (busy1 - busy0)
            - sum(per_cpu)
            - (pg1 - pg0)
            - (app1 - app0)
            - (me1 - me0),
            "wall_s": wall1 - wall0,
            "database_work_per_process": per_work,
        }

    def sequential(self, n: int, deadline_s: float) -> dict[str, Any]:
        """``n`` runs one after another, event i to server i mod N."""
        observed: list[float] = []
        rtts: list[float] = []
        end = time.monotonic() + deadline_s
        for i in range(n):
            if time.monotonic() > end:
                self.problem(f"idle phase stopped at the deadline after {i} runs")
                break
            server = self.servers[i % len(self.servers)]
            before = len(server.post_rtt.get("seq", []))
            sent_at = server.send("seq", 1, i)
            rtts.extend(server.post_rtt["seq"][before:])
            self.lead.wait_final("seq", i + 1, max(1.0, end - time.monotonic()))
            observed.append(time.time() - sent_at)
        return {"driver_observed": core.summary_ms(observed), "post_e_round_trip": rtts}

    def scan_logs(self) -> dict[str, Any]:
        """Error and warning lines of every server log (and the endpoint's tracebacks)."""
        found: dict[str, Any] = {}
        logs = [(f"server {s.index}", s.workdir / "server.log") for s in self.servers]
        for name, path in [*logs, ("endpoint", self.endpoint_log)]:
            try:
                lines = path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            errs = [ln for ln in lines if LOG_PROBLEM.search(ln)]
            warns = [ln for ln in lines if LOG_WARNING.search(ln)]
            found[name] = {"errors": len(errs), "warnings": len(warns)}
            if errs:
                found[name]["first_errors"] = errs[:5]
                self.problem(f"{name} log: {len(errs)} error lines, first: {errs[0][:300]}")
            if warns:
                found[name]["first_warnings"] = warns[:5]
                self.problem(f"{name} log: {len(warns)} warning lines, first: {warns[0][:300]}")
        return found


# --------------------------------------------------------------------------------------------
# one configuration


def check_calls(c: Cluster, stats: dict[str, Any]) -> dict[str, Any]:
    """Every run the endpoint saw must have had exactly 4 SDK calls (and one final call)."""
    runs: dict[str, dict[str, Any]] = stats["runs"]
    hist = Counter(int(r.get("calls", 0)) for r in runs.values())
    odd = {rid: r.get("calls") for rid, r in runs.items() if r.get("calls") != CALLS_PER_RUN}
    no_final = [rid for rid, r in runs.items() if not r.get("final")]
    if odd:
        c.problem(
            f"{len(odd)} runs did not get exactly {CALLS_PER_RUN} SDK calls: "
            f"{dict(sorted(hist.items()))} (calls: runs)"
        )
    if no_final:
        c.problem(f"{len(no_final)} runs never had their final call")
    return {
        "calls_histogram": {str(k): v for k, v in sorted(hist.items())},
        "runs_with_other_than_4_calls": len(odd),
        "examples_other_than_4_calls": dict(list(odd.items())[:10]),
        "runs_without_final_call": len(no_final),
    }


def summarise(
    c: Cluster,
    rounds: list[dict[str, Any]],
    stats: dict[str, Any],
    server_runs: dict[str, Any],
    seq: dict[str, Any],
) -> dict[str, Any]:
    per_round = []
    first_all: list[float] = []
    for tp in rounds:
        runs = c.lead.runs_of(stats, tp["phase"])
        measured = {k: v for k, v in tp.items() if k not in ("phase", "t_first_send", "send_s")}
        per_round.append({**core.analyse_throughput(c.lead, tp, runs, server_runs), **measured})
        first_all += [r["first"] - r["sent_at"] for r in runs.values() if r.get("sent_at")]
    steps = sum(r["steps"] for r in per_round)
    rates = [r["steps_per_s"] for r in per_round if r.get("steps_per_s")]
    n_proc = len(c.servers)
    work = [
        {k: sum(tp["database_work_per_process"][i][k] for tp in rounds) for k in WORK_KEYS}
        for i in range(n_proc)
    ]
    statements = sum(w["statements"] for w in work)
    transactions = sum(w["transactions"] for w in work)
    round_trips = sum(w["round_trips"] for w in work)
    cpu_per_proc = [sum(tp["server_cpu_s_per_process"][i] for tp in rounds) for i in range(n_proc)]
    cpu = sum(cpu_per_proc)

    def per_step(value: float) -> float | None:
        return value / steps if steps else None

    wall = sum(tp["wall_s"] for tp in rounds)
    other = sum(tp["other_cpu_s"] for tp in rounds) / wall if wall else None
    if other is not None and other > OTHER_CPU_LIMIT:
        c.problem(
            f"other processes used {other:.2f} cores during the throughput rounds "
            "(tests or tools running meanwhile?): these figures are disturbed"
        )

    seq_runs = c.lead.runs_of(stats, "seq")
    seq_in = {
        "driver_observed": seq["driver_observed"],
        "post_e_round_trip": core.summary_ms(seq["post_e_round_trip"]),
    }
    return {
        "throughput": {
            "rounds": per_round,
            "steps": steps,
            "steps_per_s": statistics.median(rates) if rates else None,
            "steps_per_s_min": min(rates) if rates else None,
            "steps_per_s_max": max(rates) if rates else None,
            "runs_per_s": statistics.median(rates) / STEPS_PER_RUN if rates else None,
            "event_to_first_call": core.summary_ms(first_all),
            "server_cpu_s": cpu,
            "server_cpu_us_per_step": (per_step(cpu) or 0.0) * 1e6 if steps else None,
            "server_cpu_share_per_process": [x / cpu if cpu else None for x in cpu_per_proc],
            "other_processes_cores": other,
            "machine_busy_cores": sum(tp["machine_busy_s"] for tp in rounds) / wall
            if wall
            else None,
            "app_cpu_us_per_step": per_step(sum(tp["app_cpu_s"] for tp in rounds) * 1e6),
            "postgres_cpu_us_per_step": per_step(sum(tp["postgres_cpu_s"] for tp in rounds) * 1e6)
            if c.cfg.db_name
            else None,  # on SQLite: whatever else uses PostgreSQL on the machine
        },
        "database_work": {
            "per_process": work,
            "statements": statements,
            "transactions": transactions,
            "statements_per_step": per_step(statements),
            "transactions_per_step": per_step(transactions),
            "round_trips_per_step": per_step(round_trips),
            "statements_share_per_process": [
                w["statements"] / statements if statements else None for w in work
            ],
        },
        "idle": core.analyse_sequential(seq_runs, server_runs, seq_in),
    }


def warm_up(c: Cluster, args: argparse.Namespace, phase_s: Callable[[], float]) -> int:
    warm = min(args.warmup, args.runs)
    if warm:
        c.send_round_robin("warm", warm)
        c.lead.wait_final("warm", warm, phase_s())
    return warm


def one_round(
    c: Cluster, k: int, args: argparse.Namespace, phase_s: Callable[[], float]
) -> dict[str, Any]:
    time.sleep(0.5)  # let the warm-up / previous round's tail settle
    tp = c.throughput_round(f"tp{k + 1}", phase_s())
    print(
        f"  [{c.cfg.name}] round {k + 1}/{args.rounds}: {args.runs} runs in flight, "
        f"sent in {tp['send_s']:.2f} s, server CPU {tp['server_cpu_s']:.2f} s",
        flush=True,
    )
    return tp


def conclude(
    c: Cluster,
    args: argparse.Namespace,
    phase_s: Callable[[], float],
    warm: int,
    rounds: list[dict[str, Any]],
) -> dict[str, Any]:
    """The idle phase and the checks, after the throughput rounds."""
    print(f"  [{c.cfg.name}] idle: {args.seq_runs} runs one after another", flush=True)
    seq = c.sequential(args.seq_runs, phase_s())
    stats = c.lead.app_stats()
    total = warm + args.rounds * args.runs + len(seq["post_e_round_trip"])
    checked = core.check_runs(c.lead, stats, total)
    server_runs = checked.pop("server_runs")
    checked.update(check_calls(c, stats))
    return {**summarise(c, rounds, stats, server_runs, seq), "checks": checked}


class Run:
    """One configuration's cluster, database and result, from set-up to tear-down."""

    def __init__(
        self, cfg: Config, args: argparse.Namespace, base: Path, dbs: Databases, deadline: float
    ) -> None:
        self.cfg, self.args, self.dbs, self.deadline = cfg, args, dbs, deadline
        self.workdir = base / f"{cfg.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.workdir.mkdir(parents=True, exist_ok=False)
        self.result: dict[str, Any] = {
            "config": cfg.name,
            "label": cfg.label,
            "workdir": str(self.workdir),
        }
        self.cluster: Cluster | None = None
        self.pg_started: str | None = None
        self.warm = 0
        self.rounds: list[dict[str, Any]] = []

    @property
    def ok(self) -> bool:
        return self.cluster is not None and "error" not in self.result

    def phase_s(self) -> float:
        left = self.deadline - time.monotonic()
        if left < 5.0:
            raise core.BenchError("out of time (--max-minutes)")
        return float(min(self.args.timeout, left))

    def guarded(self, step: Callable[[Cluster], None]) -> None:
        """Run a measuring step; a failure ends this configuration, not the others."""
        if not self.ok:
            return
        assert self.cluster is not None
        try:
            step(self.cluster)
        except (core.BenchError, OSError, http.client.HTTPException) as exc:
            self.cluster.problem(f"aborted: {exc!r}")
            self.result["error"] = str(exc)

    def open(self) -> None:
        cfg = self.cfg
        if cfg.db_name:
            try:
                db = self.dbs.create(cfg.db_name)
            except (psycopg.Error, core.BenchError) as exc:
                print(f"[{cfg.name}] cannot create database {cfg.db_name}: {exc}", flush=True)
                self.result.update(error=f"cannot create database: {exc}", problems=[str(exc)])
                return
            self.pg_started = self.dbs.postmaster_started()
            self.result["database"] = cfg.db_name
        else:
            db = str(self.workdir / "x.db")
        self.cluster = Cluster(cfg, db, self.workdir, self.args)
        print(f"[{cfg.name}] {cfg.label}: starting (work dir {self.workdir})", flush=True)

        def start(c: Cluster) -> None:
            c.start()
            self.result["server_cmd"] = c.lead.cmd
            self.warm = warm_up(c, self.args, self.phase_s)

        self.guarded(start)

    def round(self, k: int) -> None:
        self.guarded(lambda c: self.rounds.append(one_round(c, k, self.args, self.phase_s)))

    def close(self) -> dict[str, Any]:
        self.guarded(
            lambda c: self.result.update(
                conclude(c, self.args, self.phase_s, self.warm, self.rounds)
            )
        )
        c, cfg = self.cluster, self.cfg
        if c is None:
            return self.result
        self.result["stop"] = c.stop()  # a non-zero exit code on SIGTERM is listed as a problem
        self.result["logs"] = c.scan_logs()
        if cfg.db_name:
            pg_now = self.dbs.postmaster_started()
            if self.pg_started and pg_now != self.pg_started:
                c.problem(f"PostgreSQL restarted during this configuration ({pg_now})")
            try:
                self.dbs.drop(cfg.db_name)
            except psycopg.Error as exc:
                c.problem(f"could not drop database {cfg.db_name}: {exc}")
        self.result["problems"] = c.problems
        return self.result


def run_interleaved(
    cfgs: list[Config], args: argparse.Namespace, base: Path, dbs: Databases, deadline: float
) -> list[dict[str, Any]]:
    """Every configuration up at once, their throughput rounds taken in turn (round 1 of each,
    then round 2 of each, …): a disturbance of the shared machine then hits every column
    alike, so the ratios between columns hold better than the absolute figures. The idle
    configurations meanwhile only wait (their worker sleeps, their LISTEN polls once a second).
    """
    runs = [Run(cfg, args, base, dbs, deadline) for cfg in cfgs]
    try:
        for run in runs:
            run.open()
        for k in range(args.rounds):
            for run in runs:
                run.round(k)
    finally:
        results = [run.close() for run in runs]
    return results


# --------------------------------------------------------------------------------------------
# report


def _round_trips(res: dict[str, Any]) -> Any:
    return core._get(res, "database_work", "round_trips_per_step")


ROWS: list[tuple[str, tuple[str, ...], int]] = [
    ("steps/s (median of rounds)", ("throughput", "steps_per_s"), 1),
    ("  slowest round", ("throughput", "steps_per_s_min"), 1),
    ("  fastest round", ("throughput", "steps_per_s_max"), 1),
    ("runs/s", ("throughput", "runs_per_s"), 1),
    ("event→first call p50, ms (load)", ("throughput", "event_to_first_call", "p50_ms"), 1),
    ("event→first call p99, ms (load)", ("throughput", "event_to_first_call", "p99_ms"), 1),
    ("event→first call p50, ms (idle)", ("idle", "event_to_first_call", "p50_ms"), 2),
    ("event→first call p99, ms (idle)", ("idle", "event_to_first_call", "p99_ms"), 2),
    ("sequential 3-step p50, ms (idle)", ("idle", "latency_final_call", "p50_ms"), 2),
    ("POST /e (1 event) p50, ms (idle)", ("idle", "post_e_round_trip", "p50_ms"), 2),
    ("server CPU µs/step (all procs)", ("throughput", "server_cpu_us_per_step"), 0),
    ("PostgreSQL CPU µs/step", ("throughput", "postgres_cpu_us_per_step"), 0),
    ("endpoint CPU µs/step", ("throughput", "app_cpu_us_per_step"), 0),
    (f"machine busy, cores (of {os.cpu_count()})", ("throughput", "machine_busy_cores"), 2),
    ("  other processes, cores", ("throughput", "other_processes_cores"), 2),
    ("DB statements/step", ("database_work", "statements_per_step"), 2),
    ("DB transactions/step", ("database_work", "transactions_per_step"), 3),
    ("DB round trips/step", ("database_work", "round_trips_per_step"), 2),
    ("SDK calls per run (must be 4)", ("checks", "sdk_calls_per_run"), 3),
    ("runs with ≠ 4 SDK calls", ("checks", "runs_with_other_than_4_calls"), 0),
]


def _shares(values: Any) -> str:
    if not isinstance(values, list) or len(values) < 2:
        return "—"
    return "/".join(f"{(v or 0.0) * 100:.0f}" for v in values) + " %"


def render_table(results: list[dict[str, Any]]) -> str:
    header = ["metric", *[r["label"] for r in results]]
    lines: list[list[str]] = [header]
    for label, path, digits in ROWS:
        lines.append([label, *[core._fmt(core._get(r, *path), digits) for r in results]])
    lines.append(
        [
            "CPU split over procs",
            *[_shares(core._get(r, "throughput", "server_cpu_share_per_process")) for r in results],
        ]
    )
    lines.append(
        [
            "statements split over procs",
            *[
                _shares(core._get(r, "database_work", "statements_share_per_process"))
                for r in results
            ],
        ]
    )
    lines.append(
        [
            "runs Completed (API) / seen",
            *[
                f"{core._fmt(core._get(r, 'checks', 'runs_completed_per_api'))} / "
                f"{core._fmt(core._get(r, 'checks', 'runs_seen_by_app'))}"
                for r in results
            ],
        ]
    )
    sqlite = next((r for r in results if r["config"] == "sqlite"), None)
    base = core._get(sqlite, "throughput", "steps_per_s")
    ratios = []
    for r in results:
        value = core._get(r, "throughput", "steps_per_s")
        ratios.append(f"{value / base:.2f}x" if base and value else "—")
    lines.append(["steps/s vs SQLite", *ratios])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for k, row in enumerate(lines):
        out.append(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if k == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def verdicts(results: list[dict[str, Any]]) -> dict[str, Any]:
    by_name = {r["config"]: r for r in results}
    sqlite = core._get(by_name.get("sqlite"), "throughput", "steps_per_s")
    pg1 = core._get(by_name.get("pg1"), "throughput", "steps_per_s")
    ratio = pg1 / sqlite if sqlite and pg1 else None
    trips = {
        name: _round_trips(r) for name, r in by_name.items() if name != "sqlite" and _round_trips(r)
    }
    return {
        "pg1_over_sqlite_steps_per_s": ratio,
        "pg1_over_sqlite_target": TARGET_PG1_RATIO,
        "pg1_over_sqlite_pass": None if ratio is None else ratio >= TARGET_PG1_RATIO,
        "round_trips_per_step": trips,
        "round_trips_target": TARGET_ROUND_TRIPS,
        "round_trips_pass": {k: v <= TARGET_ROUND_TRIPS for k, v in trips.items()},
    }


def print_report(results: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    print()
    print(
        f"Mainspring scaling benchmark — 3-step function, minimal endpoint, {args.rounds} rounds "
        f"x {args.runs} runs in flight (batches of {args.batch}, round-robin over the processes), "
        f"{args.seq_runs} idle runs"
    )
    print(render_table(results))
    v = verdicts(results)
    print()
    ratio = v["pg1_over_sqlite_steps_per_s"]
    verdict = "—" if ratio is None else ("PASS" if v["pg1_over_sqlite_pass"] else "FAIL")
    shown = "n/a" if ratio is None else f"{ratio:.2f}"
    print(
        f"PostgreSQL 1 process / SQLite steps/s: {shown}  (target ≥ {TARGET_PG1_RATIO})  {verdict}"
    )
    for name, trips in v["round_trips_per_step"].items():
        ok = "PASS" if v["round_trips_pass"][name] else "FAIL"
        print(
            f"database round trips per step, {name}: {trips:.2f}  "
            f"(target ≤ {TARGET_ROUND_TRIPS:g} on the hot path)  {ok}"
        )
    print(
        "  (all database work of the throughput rounds divided by the steps: event ingestion, "
        "run creation and completion are included, so this bounds the hot path from above)"
    )
    print()
    print(NOTE_CORES)
    for r in results:
        if r.get("problems"):
            print(f"\nproblems seen with {r['config']} ({r['label']}):")
            for text in r["problems"]:
                print(f"  - {text}")
    return v


# --------------------------------------------------------------------------------------------
# main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Mainspring scaling benchmark (SQLite vs PostgreSQL).")
    p.add_argument("--runs", type=int, default=2000, help="runs in flight per throughput round")
    p.add_argument("--rounds", type=int, default=3, help="throughput rounds per configuration")
    p.add_argument("--batch", type=int, default=100, help="events per POST /e request")
    p.add_argument("--send-concurrency", type=int, default=10, help="POST /e requests at once")
    p.add_argument("--seq-runs", type=int, default=100, help="runs in the idle phase")
    p.add_argument("--warmup", type=int, default=100, help="warm-up runs (not measured)")
    p.add_argument(
        "--configs", default=",".join(CONFIG_NAMES), help="comma list of: sqlite, pg1, pg2, pg3"
    )
    p.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="where to CREATE/DROP DATABASE")
    p.add_argument("--db-dir", type=Path, default=None, help="keep SQLite files and logs here")
    p.add_argument("--timeout", type=float, default=180.0, help="deadline per phase, seconds")
    p.add_argument("--max-minutes", type=float, default=25.0, help="overall deadline, minutes")
    p.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra argument for every `mainspring dev` (repeatable, use --server-arg=--x)",
    )
    p.add_argument(
        "--server-pythonpath",
        default="",
        help="put this first on the servers' PYTHONPATH (e.g. to instrument them)",
    )
    p.add_argument("--json-out", type=Path, default=None, help="results file")
    args = p.parse_args(argv)
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    bad = [c for c in args.configs if not re.fullmatch(r"sqlite|pg[1-9]", c)]
    if bad or args.runs < 1 or args.rounds < 1 or args.batch < 1 or args.seq_runs < 0:
        p.error(f"bad --configs {bad}" if bad else "--runs/--rounds/--batch must be >= 1")
    args.profile = False  # bench_core.Session reads it
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dbs = Databases(args.pg_admin_url)
    atexit.register(dbs.drop_all)  # atexit runs last-in first-out: processes stop first
    atexit.register(core.PROCS.stop_all)
    signal.signal(signal.SIGTERM, core._on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    deadline = time.monotonic() + args.max_minutes * 60.0
    started = dt.datetime.now(dt.UTC)
    results: list[dict[str, Any]] = []
    try:

        def keep() -> bool:
            return any("error" in r or r.get("problems") for r in results)

        with core.work_base(args.db_dir, keep) as base:
            results.extend(run_interleaved(configs_from(args.configs), args, base, dbs, deadline))
    except KeyboardInterrupt:
        print("\ninterrupted: stopping subprocesses, dropping databases", file=sys.stderr)
        return 130
    finally:
        core.PROCS.stop_all()
        dbs.drop_all()
    verdict = print_report(results, args)
    data = {
        "started_at": started.isoformat(),
        "argv": sys.argv,
        "machine": core.machine_info(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "note": NOTE_CORES,
        "verdicts": verdict,
        "results": results,
    }
    path = args.json_out or RESULTS_DIR / f"scaling-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path = core.save_json(data, path)
    print(f"\nresults saved to {path}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
