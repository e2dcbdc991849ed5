"""The `mainspring` command line: start-up errors, version, graceful shutdown."""

from __future__ import annotations

import importlib.metadata
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from integration.harness import ServerProcess, free_port, running_stack


def run_cli(
    args: Sequence[str], cwd: Path, timeout: float = 20.0
) -> subprocess.CompletedProcess[str]:
    """Run `python -m mainspring <args>` to completion (it must exit by itself)."""
    cmd = [sys.executable, "-m", "mainspring", *args]
    try:
        return subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"{' '.join(args)} did not exit within {timeout}s (stderr: {exc.stderr!r})"
        ) from exc


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0, f"exit 0; stderr={result.stderr!r}"
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line, got: {result.stderr!r}"
    assert lines[0].startswith("mainspring: error:"), lines[0]


def dev_args(port: int, db: Path, *extra: str) -> list[str]:
    return [
        "dev",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(db),
        "--no-discovery",
        *extra,
    ]


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(dev_args(port, tmp_path / "x.db"), tmp_path)
    assert_one_line_error(result)


def test_unwritable_db_path(tmp_path: Path) -> None:
    result = run_cli(dev_args(free_port(), Path("/proc/nonexistent/x.db")), tmp_path)
    assert_one_line_error(result)


@pytest.mark.parametrize(
    "bad",
    [
        ["--definitely-not-a-flag"],
        ["--port", "not-a-number"],
        ["--backoff-base"],
        ["--durability", "disk"],
    ],
    ids=["unknown-flag", "bad-value", "missing-value", "bad-choice"],
)
def test_bad_flags(tmp_path: Path, bad: list[str]) -> None:
    # A free port first, so a server that wrongly ignores the bad flag cannot take 8288.
    args = ["dev", "--port", str(free_port()), "--db", str(tmp_path / "x.db"), *bad]
    result = run_cli(args, tmp_path)
    assert_one_line_error(result)


def test_version(tmp_path: Path) -> None:
    result = run_cli(["version"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mainspring {importlib.metadata.version('mainspring')}"


def test_version_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "mainspring"
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    result = subprocess.run(
        [str(script), "version"], cwd=tmp_path, capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mainspring {importlib.metadata.version('mainspring')}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_on_idle_server_exits_zero(tmp_path: Path, sig: signal.Signals) -> None:
    server = ServerProcess(port=free_port(), db_path=tmp_path / "idle.db", log_dir=tmp_path)
    server.start()
    try:
        sent = time.monotonic()
        code = server.terminate(timeout=5.0, sig=sig)
        elapsed = time.monotonic() - sent
    finally:
        server.stop()
    assert code == 0, f"exit code {code} after {sig.name}\n{server.log_tail()}"
    assert elapsed < 5.0
    assert "Traceback" not in server.stderr_path.read_text()


@pytest.mark.slow
def test_sigterm_waits_for_in_flight_call(tmp_path: Path) -> None:
    with running_stack(tmp_path, "durability_app", ["dur-slow-step"]) as stack:
        api, sidefx = stack.api, stack.sidefx
        run_id = str(api.run_for_event(api.send_event("dur/slow"))["run_id"])
        sidefx.wait_for(
            lambda es: any(e["kind"] == "START" and e["run_id"] == run_id for e in es),
            timeout=20,
            what="the slow step body to start",
        )

        code = stack.server.terminate(timeout=20.0)
        exited = time.monotonic()
        slow_ends = sidefx.select(kind="END", run_id=run_id, step="slow")
        assert len(slow_ends) == 1, "the server exited before the in-flight step finished"
        assert slow_ends[0]["ok"] and slow_ends[0]["mono"] <= exited
        assert code == 0, f"exit code {code}\n{stack.server.log_tail()}"

        stack.server.start()
        api.reset()
        run = api.wait_for_run_status(run_id, "Completed", timeout=30)
        assert run["output"] == {"slow": "slow done", "after": "after done"}
        # The in-flight call's result was kept: the slow body never ran again.
        assert len(sidefx.select(kind="START", run_id=run_id, step="slow")) == 1
        assert len(sidefx.select(kind="START", run_id=run_id, step="after")) == 1
