"""The official TypeScript SDK's example-function suite as a referee (issue 15).

Lays out inngest/inngest-js's ``packages/inngest/src/test/functions/*/`` the way its CI job
``examples`` does (``.github/workflows/pr.yml`` → ``packages/inngest/scripts/
integrationTestRunner.ts``), with ``mainspring dev`` in place of ``inngest-cli dev``:

* the functions are copied into ``examples/node`` (each ``.ts`` file prefixed with
  ``// @ts-nocheck``), which serves them on port 3000 with the npm SDK ``inngest@4.24.0`` (the
  version ``tests/integration_ts/app`` uses; the CI packs the checkout's own SDK instead);
* ``mainspring dev`` listens on 8288 with the CI's flags where we accept them;
* a ``PUT`` to the app's serve endpoint syncs it, then ``vitest run --dir src/test/functions``
  runs in ``packages/inngest``.

Only npm packages are fetched. Nothing of inngest-js is written outside ``--workdir``.
Prints a table of the failed tests with their first error line and, last, ``N passed, M failed``.
Exits non-zero only when the harness itself fails (not when tests fail).

    .venv/bin/python bench/ts_examples.py --inngest-js /tmp/inngest-js [--workdir /tmp/ts-ex]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEV_PORT = 8288  # hard-coded in the suite's helpers.ts and @inngest/test-harness
APP_PORT = 3000  # hard-coded in examples/node/index.ts
SDK_VERSION = "4.24.0"

# The flags integrationTestRunner.ts passes to `inngest-cli dev` (besides --port).
CI_FLAGS: list[tuple[str, str | None]] = [
    ("--no-discovery", None),
    ("--no-poll", None),
    ("--retry-interval", "1"),
    ("--log-level", "trace"),
    ("--sdk-url", f"http://localhost:{APP_PORT}/api/inngest"),
]
# Our nearest equivalent of a CI flag we do not accept.
EQUIVALENTS: dict[str, list[str]] = {
    # inngest-cli: a fixed 1 s between retries; ours: exponential from --backoff-base, capped.
    "--retry-interval": ["--backoff-base", "1", "--backoff-max", "1"],
}

# packages/inngest devDependencies the example tests load (helpers.ts and vitest's config);
# the rest (next, sveltejs, koa, ...) are for other test suites.
DEV_DEPS = (
    "vitest",
    "vite-tsconfig-paths",
    "typescript",
    "@types/node",
    "@total-typescript/shoehorn",
    "nock",
    "node-mocks-http",
    "express",
    "@types/express",
)
SDK_FILES = ("package.json", "tsconfig.json", "tsconfig.types.json", "vitest.config.ts")


class HarnessError(Exception):
    """The harness could not run the suite (as opposed to tests failing)."""


@dataclass
class Outcome:
    name: str
    status: str
    error: str


def log(msg: str) -> None:
    print(f"[ts_examples] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path, logfile: Path, timeout: float) -> None:
    log(f"$ {' '.join(cmd)}  (in {cwd})")
    with logfile.open("ab") as out:
        try:
            proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=out, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(
                f"timed out after {timeout:.0f}s: {cmd[:3]} (see {logfile})"
            ) from exc
    if proc.returncode != 0:
        raise HarnessError(f"exit {proc.returncode}: {' '.join(cmd[:3])} (see {logfile})")


class Processes:
    """Long-running children, each in a session of its own, stopped by process group."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, name: str, cmd: list[str], cwd: Path, env: dict[str, str], logfile: Path
    ) -> None:
        log(f"start {name}: {' '.join(cmd)}  (log {logfile})")
        out = logfile.open("ab")
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=out, start_new_session=True
        )
        out.close()
        self.procs.append((name, proc))

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise HarnessError(f"{name} exited early with {proc.returncode}")

    def stop_all(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                log(f"stop {name} (pgid {proc.pid})")
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 10
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group may outlive its leader (npm → tsx → node)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        self.procs.clear()


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def http(method: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def wait_ready(url: str, procs: Processes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            status, body = http("GET", url)
            if 200 <= status < 300:
                log(f"ready: {url}")
                return
            last = f"{status} {body[:200]}"
        except (OSError, urllib.error.URLError) as exc:
            last = str(exc)
        time.sleep(1)
    raise HarnessError(f"{url} not ready within {timeout:.0f}s: {last}")


def layout(checkout: Path, work: Path) -> tuple[Path, Path]:
    """Copy what the CI uses into ``work``; returns (sdk dir, example dir)."""
    src_sdk = checkout / "packages" / "inngest"
    functions = src_sdk / "src" / "test" / "functions"
    for needed in (
        functions,
        checkout / "packages" / "test-harness" / "src",
        checkout / "examples" / "node",
    ):
        if not needed.is_dir():
            raise HarnessError(f"not an inngest-js checkout: {needed} is missing")
    sdk = work / "packages" / "inngest"
    for sub in ("src",):
        shutil.rmtree(sdk / sub, ignore_errors=True)
        shutil.copytree(src_sdk / sub, sdk / sub)
    for name in SDK_FILES:
        shutil.copy2(src_sdk / name, sdk / name)
    # The CI's build step (`prebuild`: genversion --semi --double --es6) writes src/version.ts.
    version = json.loads((src_sdk / "package.json").read_text())["version"]
    (sdk / "src" / "version.ts").write_text(
        f'// Generated by genversion.\nexport const version = "{version}";\n'
    )
    harness = work / "packages" / "test-harness"
    shutil.rmtree(harness, ignore_errors=True)
    shutil.copytree(checkout / "packages" / "test-harness", harness)

    example = work / "examples" / "node"
    example.mkdir(parents=True, exist_ok=True)
    for item in (checkout / "examples" / "node").iterdir():
        if item.name in ("inngest", "node_modules"):
            continue
        if item.is_dir():
            shutil.rmtree(example / item.name, ignore_errors=True)
            shutil.copytree(item, example / item.name)
        else:
            shutil.copy2(item, example / item.name)
    # As setupExample(): the example's functions replaced by the suite's, all @ts-nocheck.
    target = example / "inngest"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(functions, target)
    for ts in target.rglob("*.ts"):
        ts.write_text("// @ts-nocheck\n" + ts.read_text())
    (example / ".eslintignore").write_text("**/inngest/**\n")
    # The npm SDK in place of the CI's packed checkout (file:../../packages/inngest/inngest.tgz).
    pkg = json.loads((example / "package.json").read_text())
    pkg["dependencies"]["inngest"] = SDK_VERSION
    (example / "package.json").write_text(json.dumps(pkg, indent=2) + "\n")
    return sdk, example


def root_package(sdk: Path) -> dict[str, Any]:
    """The workspace root's package.json: the SDK source's dependencies plus the dev tools."""
    pkg = json.loads((sdk / "package.json").read_text())
    deps: dict[str, str] = dict(pkg.get("dependencies", {}))
    dev: dict[str, str] = pkg.get("devDependencies", {})
    for name in DEV_DEPS:
        if name in dev:
            deps[name] = dev[name]
    return {"name": "ts-examples-referee", "private": True, "type": "module", "dependencies": deps}


def npm_install(work: Path, sdk: Path, example: Path, logs: Path) -> None:
    flags = ["--legacy-peer-deps", "--no-package-lock", "--no-audit", "--no-fund"]
    root = root_package(sdk)
    stamp = work / "node_modules" / ".ts-examples-stamp"
    wanted = json.dumps(root, sort_keys=True)
    if not (stamp.exists() and stamp.read_text() == wanted):
        (work / "package.json").write_text(json.dumps(root, indent=2) + "\n")
        run(["npm", "install", *flags], work, logs / "npm-root.log", timeout=900)
        stamp.write_text(wanted)
    else:
        log("root node_modules up to date")
    # @inngest/test-harness is a pnpm workspace package in the CI; link it the same way.
    link = work / "node_modules" / "@inngest" / "test-harness"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path("..", "..", "packages", "test-harness"))

    ex_stamp = example / "node_modules" / ".ts-examples-stamp"
    ex_wanted = (example / "package.json").read_text()
    if not (ex_stamp.exists() and ex_stamp.read_text() == ex_wanted):
        run(["npm", "install", *flags], example, logs / "npm-example.log", timeout=600)
        ex_stamp.write_text(ex_wanted)
    else:
        log("example node_modules up to date")


def mainspring_command(explicit: str | None) -> list[str]:
    if explicit:
        return explicit.split()
    exe = Path(sys.executable).parent / "mainspring"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "mainspring"]


def dev_flags(ms: list[str], work: Path) -> tuple[list[str], list[str]]:
    """The CI's `inngest-cli dev` flags we accept, plus equivalents; and those we reject."""
    help_text = subprocess.run(
        [*ms, "dev", "--help"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    if "--port" not in help_text:
        raise HarnessError(f"`{' '.join(ms)} dev --help` did not list --port")
    flags = ["--port", str(DEV_PORT), "--db", str(work / "mainspring.db")]
    rejected: list[str] = []
    for flag, value in CI_FLAGS:
        if flag in help_text.split():
            flags += [flag] if value is None else [flag, value]
        elif any(word.startswith(flag) for word in help_text.split()):
            flags += [flag] if value is None else [flag, value]
        else:
            rejected.append(flag if value is None else f"{flag} {value}")
            flags += EQUIVALENTS.get(flag, [])
    return flags, rejected


def first_line(messages: list[str]) -> str:
    """The first meaningful line of a failure; a ZodError as its first issue (path: message)."""
    text = "\n".join(messages)
    if text.startswith("ZodError: ["):
        try:
            issues = json.loads(text[len("ZodError: ") : text.index("\n]") + 2])
            first = issues[0]
            path = ".".join(str(p) for p in first.get("path", []))
            return f"ZodError ({len(issues)} issues): {path}: {first.get('message', '')}"[:160]
        except (ValueError, IndexError, KeyError, AttributeError):
            pass
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:160]
    return ""


def timeouts_from_log(log_text: str) -> dict[str, str]:
    """vitest's JSON has ``Error: STACK_TRACE_ERROR`` for a timeout; its text log says which."""
    found: dict[str, str] = {}
    lines = log_text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith(" FAIL ") and " > " in line and "timed out" in lines[i + 1]:
            found[line.split(" > ", 1)[1].strip()] = lines[i + 1].strip()
    return found


def parse_report(path: Path, log_text: str = "") -> list[Outcome]:
    if not path.exists():
        raise HarnessError(f"vitest wrote no report at {path}")
    report = json.loads(path.read_text())
    timeouts = timeouts_from_log(log_text)
    outcomes: list[Outcome] = []
    for file_result in report.get("testResults", []):
        fname = Path(file_result.get("name", "?")).parent.name
        assertions = file_result.get("assertionResults", [])
        if not assertions and file_result.get("status") == "failed":
            message = first_line([file_result.get("message", "")])
            outcomes.append(Outcome(f"{fname} (file)", "failed", message))
        for a in assertions:
            title = " > ".join([*a.get("ancestorTitles", []), a.get("title", "")])
            error = first_line(a.get("failureMessages", []))
            if "STACK_TRACE_ERROR" in error:
                error = timeouts.get(title, error)
            outcomes.append(Outcome(f"{fname}: {title}", a.get("status", "?"), error))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--inngest-js", required=True, type=Path, help="a checkout of inngest/inngest-js"
    )
    ap.add_argument(
        "--workdir", type=Path, help="where to lay the suite out (kept; reused node_modules)"
    )
    ap.add_argument(
        "--mainspring", help="command for the server (default: this venv's `mainspring`)"
    )
    ap.add_argument(
        "--test-timeout", type=float, default=1800, help="seconds for the whole vitest run"
    )
    ap.add_argument(
        "--max-workers",
        type=int,
        default=17,
        help="vitest files in parallel (default: all 17; a failing test waits up to 60 s, so one "
        "worker per core would take an hour on 2 cores)",
    )
    args = ap.parse_args(argv)

    work = args.workdir.resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="ts-examples-"))
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    procs = Processes()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        procs.stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        for port in (DEV_PORT, APP_PORT):
            if not port_free(port):
                raise HarnessError(f"port {port} is in use (the suite hard-codes it)")
        sdk, example = layout(args.inngest_js.resolve(), work)
        npm_install(work, sdk, example, logs)

        ms = mainspring_command(args.mainspring)
        flags, rejected = dev_flags(ms, work)
        for suffix in ("", "-wal", "-shm"):
            (work / f"mainspring.db{suffix}").unlink(missing_ok=True)
        env = {**os.environ, "DO_NOT_TRACK": "1"}
        procs.start("mainspring dev", [*ms, "dev", *flags], REPO, env, logs / "mainspring.log")
        app_env = {
            **os.environ,
            "HOST": "0.0.0.0",
            "PORT": str(APP_PORT),
            "NODE_ENV": "development",
            "INNGEST_LOG_LEVEL": "debug",
            "INNGEST_BASE_URL": f"http://localhost:{DEV_PORT}",
        }
        procs.start("example app", ["npm", "run", "dev"], example, app_env, logs / "app.log")
        wait_ready(f"http://localhost:{DEV_PORT}/", procs, 60)
        wait_ready(f"http://localhost:{APP_PORT}/api/inngest", procs, 60)

        origin = f"http://localhost:{APP_PORT}"
        status, body = http("PUT", f"{origin}/api/inngest", {"Origin": origin})
        log(f"register: {status} {body[:200]}")
        if not 200 <= status < 300:
            raise HarnessError(f"sync PUT failed: {status} {body[:300]}")

        report = logs / "vitest.json"
        vitest = work / "node_modules" / ".bin" / "vitest"
        cmd = [str(vitest), "run", "--dir", "src/test/functions", "--reporter=default"]
        cmd += [f"--maxWorkers={args.max_workers}", f"--minWorkers={min(args.max_workers, 1)}"]
        # The config's type-check pass checks none of these files (tsconfig.types.json excludes
        # src/test/functions) but lists each test a second time, unexecuted: leave it out.
        cmd += ["--typecheck.enabled=false"]
        cmd += ["--reporter=json", f"--outputFile={report}"]
        log(f"$ {' '.join(cmd)}  (in {sdk}; log {logs / 'vitest.log'})")
        with (logs / "vitest.log").open("wb") as out:
            vt = subprocess.Popen(cmd, cwd=sdk, stdout=out, stderr=out, start_new_session=True)
            try:
                vt.wait(timeout=args.test_timeout)
            except subprocess.TimeoutExpired as exc:
                os.killpg(vt.pid, signal.SIGKILL)
                vt.wait(timeout=10)
                raise HarnessError(f"vitest did not finish in {args.test_timeout:.0f}s") from exc
        outcomes = parse_report(report, (logs / "vitest.log").read_text(errors="replace"))
    except HarnessError as exc:
        log(f"harness error: {exc}")
        return 2
    finally:
        procs.stop_all()

    unloaded = [o for o in outcomes if o.name.endswith("(file)")]
    passed = sum(o.status == "passed" for o in outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    print(f"workdir: {work} (logs in {logs})")
    print("mainspring dev flags: " + " ".join(flags))
    print("CI flags rejected by mainspring dev: " + (", ".join(rejected) or "none"))
    if failed:
        width = max(len(o.name) for o in failed)
        print(f"\n{'failed test'.ljust(width)}  first error line")
        for o in failed:
            print(f"{o.name.ljust(width)}  {o.error}")
        print()
    print(f"{passed} passed, {len(failed)} failed")
    if unloaded:
        log(f"harness error: {len(unloaded)} test file(s) failed to load (see the table)")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
