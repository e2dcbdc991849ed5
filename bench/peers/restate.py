"""Mainspring vs Restate, side by side: the core 3-step workload on both, round by round.

Usage (from the repository root; needs ``npm`` and network access to the npm registry)::

    .venv/bin/python bench/peers/restate.py                         # 3 rounds, sdk + minimal
    .venv/bin/python bench/peers/restate.py --rounds 5 --targets minimal \\
        --variant 'power=--durability power'

Restate (a durable-execution server written in Rust) and its TypeScript SDK are installed with
npm into a temporary folder that is removed afterwards; nothing of Restate is committed. Its
server is ``@restatedev/restate-server`` (the npm package ships the binary), run with default
settings on a fresh base dir per round; the service is ``restate_service.cjs`` (three
``ctx.run`` steps, the same values as bench_core's apps) behind the SDK's own HTTP/2 endpoint.

Every round runs, one after another: bench_core.py as a subprocess (its targets and variants,
fresh Mainspring servers) and then Restate, driven like bench_core drives Mainspring:

* throughput: ``--runs`` invocations in flight, ``POST /chain/run/send`` on the ingress
  (``--send-concurrency`` keep-alive connections; the ingress takes one invocation per request,
  Mainspring 100 events per ``POST /e``), wall time from the first send to the last handler end;
* sequential: ``--seq-runs`` invocations one after another, each a blocking ``POST /chain/run``
  whose answer must be ``{"total": 25}``; latency = handler end minus send time, like
  bench_core's "final call" (the driver's round trip is shown too);
* CPU per step: utime+stime of restate-server and of the Node service over the throughput phase.

The table shows medians over the rounds, then ratios Mainspring ÷ Restate. Results go to
``bench/results/restate-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PEERS_DIR = Path(__file__).resolve().parent
BENCH_DIR = PEERS_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import bench_core as core  # noqa: E402  (processes, HTTP, CPU, stats, report helpers)

HOST = core.HOST
RESTATE_SERVER_VERSION = "1.7.12"
RESTATE_SDK_VERSION = "1.17.2"
RESTATE = "restate"
PHASE_TIMEOUT_S = 300.0

ROWS: list[tuple[str, tuple[str, ...], int]] = [
    ("throughput: steps/s", ("throughput", "steps_per_s"), 1),
    ("  wall time, s", ("throughput", "wall_s"), 3),
    ("  time to send all, s", ("throughput", "send_s"), 3),
    ("first call p50, ms (load)", ("throughput", "event_to_first_call", "p50_ms"), 2),
    ("first call p50, ms (idle)", ("sequential", "event_to_first_call", "p50_ms"), 2),
    ("sequential 3-step p50, ms", ("sequential", "latency_final_call", "p50_ms"), 2),
    ("sequential 3-step p99, ms", ("sequential", "latency_final_call", "p99_ms"), 2),
    ("  p50 seen by the driver, ms", ("sequential", "driver_observed", "p50_ms"), 2),
    ("server CPU µs/step", ("throughput", "server_cpu_us_per_step"), 0),
    ("app CPU µs/step", ("throughput", "app_cpu_us_per_step"), 0),
    ("app calls/attempts per run", ("checks", "sdk_calls_per_run"), 3),
]
RATIOS: list[tuple[str, tuple[str, ...]]] = [
    ("steps/s", ("throughput", "steps_per_s")),
    ("seq p50", ("sequential", "latency_final_call", "p50_ms")),
    ("seq p99", ("sequential", "latency_final_call", "p99_ms")),
    ("server CPU/step", ("throughput", "server_cpu_us_per_step")),
]


# --------------------------------------------------------------------------------------------
# installation


def install(folder: Path) -> Path:
    """npm-install Restate's server and TS SDK into ``folder``; returns the server binary."""
    npm = shutil.which("npm")
    if npm is None:
        raise core.BenchError("npm is not on PATH")
    (folder / "package.json").write_text('{"name": "restate-peer", "private": true}\n')
    packages = [
        f"@restatedev/restate-server@{RESTATE_SERVER_VERSION}",
        f"@restatedev/restate-sdk@{RESTATE_SDK_VERSION}",
    ]
    print(f"installing {' '.join(packages)} into {folder}", flush=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *packages],
        cwd=folder,
        check=True,
    )
    shutil.copy(PEERS_DIR / "restate_service.cjs", folder)
    shutil.copy(BENCH_DIR / "apps" / "recorder.cjs", folder)
    found = sorted(folder.glob("node_modules/@restatedev/restate-server-*/bin/restate-server"))
    if not found:
        raise core.BenchError("the restate-server package shipped no binary for this platform")
    return found[0]


# --------------------------------------------------------------------------------------------
# one Restate round


class RestateSession:
    """restate-server + the Node service, fresh per round, and the driver's clients."""

    def __init__(self, binary: Path, folder: Path, workdir: Path, args: argparse.Namespace):
        self.binary, self.folder, self.workdir, self.args = binary, folder, workdir, args
        self.ports = {k: core.free_port() for k in ("ingress", "admin", "node", "svc", "bench")}
        self.ingress = core.Http(self.ports["ingress"])
        self.admin = core.Http(self.ports["admin"])
        self.bench = core.Http(self.ports["bench"])
        self.server: subprocess.Popen[bytes] | None = None
        self.app: subprocess.Popen[bytes] | None = None
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        print(f"  ! {text}", flush=True)
        self.problems.append(text)

    def start(self) -> None:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.workdir),
            "RESTATE_ADMIN__BIND_ADDRESS": f"{HOST}:{self.ports['admin']}",
            "RESTATE_INGRESS__BIND_ADDRESS": f"{HOST}:{self.ports['ingress']}",
            "RESTATE_BIND_ADDRESS": f"{HOST}:{self.ports['node']}",
            "RESTATE_ADVERTISED_ADDRESS": f"http://{HOST}:{self.ports['node']}",
            "RESTATE_LOG_FILTER": "warn",
        }
        cmd = [str(self.binary), "--no-logo", "--listen-mode", "tcp", "--node-name", "bench"]
        cmd += ["--base-dir", str(self.workdir / "restate-data")]
        log = self.workdir / "restate-server.log"
        self.server = core.PROCS.start(cmd, log, env)

        def healthy() -> bool:
            self.check_alive()
            ok_admin = self.admin.request("GET", "/health")[0] == 200
            return ok_admin and self.ingress.request("GET", "/restate/health")[0] == 200

        took = core.wait_until(healthy, 60.0, what="restate-server health")
        print(f"  restate-server healthy after {took:.2f} s", flush=True)
        node = shutil.which("node") or "node"
        app_cmd = [node, "restate_service.cjs", str(self.ports["svc"]), str(self.ports["bench"])]
        with open(self.workdir / "restate-service.log", "wb") as fh:
            self.app = subprocess.Popen(
                app_cmd, cwd=self.folder, stdout=fh, stderr=subprocess.STDOUT
            )
        core.PROCS.procs.append(self.app)
        core.wait_until(
            lambda: self.bench.request("GET", "/bench/wait?phase=ready&n=0&secs=0")[0] == 200,
            30.0,
            what="the Restate service",
        )
        uri = f"http://{HOST}:{self.ports['svc']}"

        def registered() -> bool:
            status, body = self.admin.request("POST", "/deployments", {"uri": uri})
            if status not in (200, 201, 409):
                raise core.BenchError(f"POST /deployments answered {status}: {body}")
            return True

        core.wait_until(registered, 30.0, interval=0.2, what="deployment registration")

        def invocable() -> bool:  # the ingress learns the new service asynchronously
            return self.ingress.request("GET", "/restate/health")[0] == 200 and (
                self.call_sync("warm", -1)[0] == 200
            )

        core.wait_until(invocable, 30.0, interval=0.1, what="the ingress to route chain/run")

    def check_alive(self) -> None:
        for name, proc in (("restate-server", self.server), ("service", self.app)):
            if proc is not None and proc.poll() is not None:
                raise core.BenchError(f"{name} died with exit code {proc.returncode}")

    def stop(self) -> None:
        for proc in (self.app, self.server):
            if proc is not None:
                core.PROCS.stop(proc, signal.SIGTERM, grace=20.0)
        for client in (self.ingress, self.admin, self.bench):
            client.close()

    # -- driving ---------------------------------------------------------------------------

    def payload(self, phase: str, i: int) -> dict[str, Any]:
        return {"sent_at": time.time(), "phase": phase, "i": i}

    def call_sync(self, phase: str, i: int) -> tuple[int, Any]:
        return self.ingress.request("POST", "/chain/run", self.payload(phase, i), timeout=60.0)

    def send(self, client: core.Http, phase: str, i: int) -> None:
        status, body = client.request("POST", "/chain/run/send", self.payload(phase, i))
        if status not in (200, 202):
            raise core.BenchError(f"POST /chain/run/send answered {status}: {str(body)[:300]}")

    def wait_final(self, phase: str, n: int) -> None:
        end = time.monotonic() + PHASE_TIMEOUT_S
        while time.monotonic() < end:
            secs = max(0.1, min(30.0, end - time.monotonic()))
            path = f"/bench/wait?phase={phase}&n={n}&secs={secs:.3f}"
            status, body = self.bench.request("GET", path, timeout=secs + 15.0)
            if status == 200 and isinstance(body, dict) and body.get("done"):
                return
            self.check_alive()
        raise core.BenchError(f"phase {phase}: {n} invocations did not finish in time")

    def throughput(self) -> dict[str, Any]:
        runs, conc = self.args.runs, self.args.send_concurrency
        clients = _clients(self.ports["ingress"], conc)
        assert self.server is not None and self.app is not None
        cpu0, app0 = core.cpu_seconds(self.server.pid), core.cpu_seconds(self.app.pid)
        t_first = time.time()
        _parallel(lambda c, i: self.send(c, "tp", i), list(range(runs)), clients)
        t_sent = time.time()
        self.wait_final("tp", runs)
        time.sleep(0.2)  # like bench_core: let the server store the last results
        return {
            "t_first_send": t_first,
            "send_s": t_sent - t_first,
            "server_cpu_s": core.cpu_seconds(self.server.pid) - cpu0,
            "app_cpu_s": core.cpu_seconds(self.app.pid) - app0,
        }

    def sequential(self) -> dict[str, Any]:
        observed, wrong = [], 0
        for i in range(self.args.seq_runs):
            t0 = time.time()
            status, body = self.call_sync("seq", i)
            observed.append(time.time() - t0)
            if status != 200 or body != {"total": 25}:
                wrong += 1
        if wrong:
            self.problem(f"{wrong} sequential invocations did not answer {{'total': 25}}")
        return {"driver_observed": core.summary_ms(observed), "post_e_round_trip": {}}

    def run(self) -> dict[str, Any]:
        self.start()
        for i in range(self.args.warmup):
            self.call_sync("warm", i)
        print(f"[{RESTATE}] throughput: {self.args.runs} invocations in flight", flush=True)
        tp = self.throughput()
        print(f"[{RESTATE}] sequential: {self.args.seq_runs} one after another", flush=True)
        seq = self.sequential()
        status, stats = self.bench.request("GET", "/bench/stats", timeout=60.0)
        if status != 200 or not isinstance(stats, dict):
            raise core.BenchError(f"GET /bench/stats answered {status}")
        runs = stats["runs"]
        tp_runs = {k: r for k, r in runs.items() if r.get("phase") == "tp"}
        seq_runs = {k: r for k, r in runs.items() if r.get("phase") == "seq"}
        attempts = [int(r.get("calls", 0)) for r in runs.values()]
        dups = sum(int(r.get("dup_final", 0)) for r in runs.values())
        if dups:
            self.problem(f"{dups} handlers ended twice")
        if len(tp_runs) != self.args.runs:
            self.problem(f"{len(tp_runs)} of {self.args.runs} throughput invocations seen")
        return {
            "throughput": core.analyse_throughput(None, tp, tp_runs, {}),  # type: ignore[arg-type]
            "sequential": core.analyse_sequential(seq_runs, {}, seq),
            "checks": {
                "sdk_calls_per_run": sum(attempts) / len(attempts) if attempts else None,
                "duplicate_final_calls": dups,
            },
        }


def _clients(port: int, n: int) -> Any:
    import queue

    clients: queue.Queue[core.Http] = queue.Queue()
    for _ in range(max(1, n)):
        client = core.Http(port)
        client.request("GET", "/restate/health")
        clients.put(client)
    return clients


def _parallel(fn: Any, items: list[int], clients: Any) -> None:
    """bench_core's Session.parallel without a Session: one thread per keep-alive client."""
    from concurrent.futures import ThreadPoolExecutor

    def task(item: int) -> None:
        client = clients.get()
        try:
            fn(client, item)
        finally:
            clients.put(client)

    try:
        with ThreadPoolExecutor(max_workers=clients.qsize()) as pool:
            list(pool.map(task, items))
    finally:
        while not clients.empty():
            clients.get().close()


def restate_round(
    binary: Path, folder: Path, base: Path, args: argparse.Namespace
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="restate-", dir=base))
    s = RestateSession(binary, folder, workdir, args)
    result: dict[str, Any] = {"target": RESTATE, "workdir": str(workdir)}
    try:
        print(f"[{RESTATE}] starting (work dir {workdir})", flush=True)
        result.update(s.run())
    except core.BenchError as exc:
        s.problem(f"aborted: {exc}")
        result["error"] = str(exc)
        result["server_log_tail"] = core.tail(workdir / "restate-server.log", 30)
    finally:
        s.stop()
        result["problems"] = s.problems
    return result


# --------------------------------------------------------------------------------------------
# one Mainspring round: bench_core.py as a subprocess


def mainspring_round(base: Path, args: argparse.Namespace, n: int) -> dict[str, dict[str, Any]]:
    out = base / f"mainspring-round-{n}.json"
    cmd = [sys.executable, str(BENCH_DIR / "bench_core.py"), "--targets", args.targets]
    cmd += ["--runs", str(args.runs), "--seq-runs", str(args.seq_runs)]
    cmd += ["--warmup", str(args.warmup), "--send-concurrency", str(args.send_concurrency)]
    cmd += ["--json-out", str(out), "--floor"]
    cmd += [f"--variant={v}" for v in args.variant]
    cmd += [f"--server-arg={a}" for a in args.server_arg]
    print(f"[mainspring] {' '.join(cmd)}", flush=True)
    done = subprocess.run(cmd, cwd=core.REPO, check=False)
    if not out.exists():
        return {"mainspring": {"error": f"bench_core.py exited with {done.returncode}"}}
    data = json.loads(out.read_text())
    results: dict[str, dict[str, Any]] = data["results"]
    if isinstance(data.get("floor"), dict):
        results["python floor"] = {"floor": data["floor"]}
    return results


# --------------------------------------------------------------------------------------------
# report


def render(results: dict[str, dict[str, Any]]) -> str:
    cols = list(results)
    lines = [["metric", *cols]]
    for label, path, digits in ROWS:
        lines.append([label, *(core._fmt(core._get(results[c], *path), digits) for c in cols)])
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
    out = []
    for k, row in enumerate(lines):
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if k == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def render_ratios(results: dict[str, dict[str, Any]]) -> str:
    peer = results.get(RESTATE)
    lines = []
    for name, res in results.items():
        if name == RESTATE or peer is None:
            continue
        parts = []
        for label, path in RATIOS:
            ours, theirs = core._get(res, *path), core._get(peer, *path)
            if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
                parts.append(f"{label} {ours / theirs:.2f}x")
        lines.append(f"{name} ÷ restate: " + ", ".join(parts))
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Mainspring vs Restate, interleaved rounds.")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--runs", type=int, default=1000, help="runs in flight in the throughput phase")
    p.add_argument("--seq-runs", type=int, default=200, help="runs one after another")
    p.add_argument("--warmup", type=int, default=50, help="warm-up runs (not measured)")
    p.add_argument("--send-concurrency", type=int, default=10, help="parallel send connections")
    p.add_argument(
        "--targets",
        default="sdk,minimal",
        help="bench_core targets (comma list; default sdk,minimal; empty: Restate alone)",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=FLAGS",
        help="bench_core --variant, e.g. 'power=--durability power' (repeatable)",
    )
    p.add_argument("--server-arg", action="append", default=[], help="bench_core --server-arg")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, npm)")
    p.add_argument("--json-out", type=Path, default=None, help="results file")
    args = p.parse_args(argv)
    if args.rounds < 1 or args.runs < 1:
        p.error("--rounds and --runs must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atexit.register(core.PROCS.stop_all)
    signal.signal(signal.SIGTERM, core._on_sigterm)
    started = dt.datetime.now(dt.UTC)
    base = Path(tempfile.mkdtemp(prefix="restate-peer-"))
    rounds: dict[str, list[dict[str, Any]]] = {}
    try:
        npm_dir = base / "npm"
        npm_dir.mkdir()
        binary = install(npm_dir)
        for n in range(args.rounds):
            print(f"=== round {n + 1} of {args.rounds}", flush=True)
            if args.targets:  # empty: Restate alone (a quick check of this script)
                for name, res in mainspring_round(base, args, n).items():
                    rounds.setdefault(name, []).append(res)
            rounds.setdefault(RESTATE, []).append(restate_round(binary, npm_dir, base, args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        core.PROCS.stop_all()
        if args.keep:
            print(f"(kept {base})", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    floors = rounds.pop("python floor", [])
    results = {name: core.median_result(rs) for name, rs in rounds.items()}
    print()
    print(
        f"Mainspring vs Restate {RESTATE_SERVER_VERSION} (TS SDK {RESTATE_SDK_VERSION}): 3-step "
        f"function, {args.runs} in flight, {args.seq_runs} sequential; medians of "
        f"{args.rounds} interleaved round(s)"
    )
    print(render(results))
    print()
    print(render_ratios(results))
    if floors:
        floor = core.median_result(floors)["floor"]["server_cpu_us_per_request"]
        print(f"Python's per-request floor (bare uvicorn ASGI echo, median): {floor:,.0f} µs CPU")
    for name, res in results.items():
        for text in res.get("problems", []):
            print(f"  problem ({name}): {text}")
    per_round = {
        name: [core._get(r, "throughput", "steps_per_s") for r in rs] for name, rs in rounds.items()
    }
    print(f"\nsteps/s per round: {json.dumps(per_round, default=lambda v: round(v, 1))}")
    data = {
        "started_at": started.isoformat(),
        "argv": sys.argv,
        "machine": core.machine_info(),
        "restate": {"server": RESTATE_SERVER_VERSION, "sdk": RESTATE_SDK_VERSION},
        "results": results,
        "rounds": rounds,
        "python_floor": floors,
        "rounds_per_column": {k: len(v) for k, v in rounds.items()},
    }
    core.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = args.json_out or core.RESULTS_DIR / f"restate-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    print(f"results saved to {path}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
