"""`mainspring dev` takes the flags CI scripts pass to `inngest-cli dev`: mapped onto ours, or
accepted with one log line saying why they are ignored; an unknown flag is still an error."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from integration.harness import free_port, wait_until
from mainspring.cli import cli, server
from mainspring.settings import Settings

KEY = "signkey-prod-" + "5e" * 32


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Settings]]:
    """The settings `dev`/`start` would serve with; nothing is served. Log levels are put back."""
    for name in [n for n in os.environ if n.startswith(("MAINSPRING_", "INNGEST_"))]:
        monkeypatch.delenv(name)
    seen: list[Settings] = []
    monkeypatch.setattr(server, "serve", seen.append)
    loggers = [logging.getLogger(), logging.getLogger("mainspring")]
    levels = [logger.level for logger in loggers]
    yield seen
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def _invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_retry_interval_gives_a_fixed_backoff(served: list[Settings]) -> None:
    assert _invoke(["dev", "--retry-interval", "1"]).exit_code == 0
    assert (served[0].backoff_base_ms, served[0].backoff_max_ms) == (1000, 1000)


def test_an_explicit_backoff_base_wins(served: list[Settings]) -> None:
    assert _invoke(["dev", "--retry-interval", "4", "--backoff-base", "0.5"]).exit_code == 0
    assert (served[0].backoff_base_ms, served[0].backoff_max_ms) == (500, 4000)


def test_queue_workers_and_sqlite_dir(served: list[Settings], tmp_path: Path) -> None:
    args = ["dev", "--queue-workers", "12", "--sqlite-dir", str(tmp_path)]
    assert _invoke(args).exit_code == 0
    assert served[0].max_in_flight == 12
    assert served[0].db == str(tmp_path / "dev.db")


@pytest.mark.parametrize(
    ("args", "level"),
    [
        (["--log-level", "debug"], logging.DEBUG),
        (["-l", "trace"], logging.DEBUG),
        (["--verbose"], logging.DEBUG),
        (["--log-level", "error"], logging.ERROR),
        ([], logging.INFO),
    ],
)
def test_log_level_sets_our_loggers(served: list[Settings], args: list[str], level: int) -> None:
    assert _invoke(["dev", *args]).exit_code == 0
    assert served[0].logging_level == level
    assert logging.getLogger("mainspring.worker").getEffectiveLevel() == level
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.INFO  # no library debug


def test_a_bad_log_level_is_refused(served: list[Settings]) -> None:
    result = _invoke(["dev", "--log-level", "loud"])
    assert result.exit_code == 2 and "--log-level" in result.output
    assert served == []


def test_ignored_flags_are_accepted_and_logged(
    served: list[Settings], caplog: pytest.LogCaptureFixture
) -> None:
    args = ["dev", "--tick", "150", "--persist", "--redis-uri", "redis://r:6379", "--json"]
    args += ["--connect-gateway-grpc-port", "50052", "--postgres-max-open-conns", "5"]
    with caplog.at_level(logging.INFO, logger="mainspring"):
        assert _invoke(args).exit_code == 0
    notes = [r.getMessage() for r in caplog.records if "accepted and ignored" in r.getMessage()]
    flags = [note.split(" ", 1)[0] for note in notes]
    assert flags == [
        "--tick",
        "--persist",
        "--json",
        "--redis-uri",
        "--connect-gateway-grpc-port",
        "--postgres-max-open-conns",
    ]
    assert all(": " in note and not note.endswith(": ") for note in notes)  # says why
    assert served[0].backoff_base_ms == 1000  # and changes nothing


def test_the_connect_gateway_port_is_a_real_flag(served: list[Settings]) -> None:
    assert _invoke(["dev", "--connect-gateway-port", "18289"]).exit_code == 0
    assert served[0].connect_gateway_port == 18289


def test_start_takes_the_inngest_start_flags(served: list[Settings]) -> None:
    keys = ["--signing-key", KEY, "--event-key", "ek"]
    result = _invoke(["start", *keys, "--queue-workers", "9", "--no-ui", "--tick", "100"])
    assert result.exit_code == 0
    assert served[0].max_in_flight == 9 and served[0].ui is False
    assert _invoke(["start", *keys, "--persist"]).exit_code == 2  # a dev-only flag


@pytest.mark.parametrize("bad", ["--definitely-not-a-flag", "--in-memmory"])
def test_unknown_flags_still_fail(served: list[Settings], bad: str) -> None:
    result = _invoke(["dev", bad])
    assert result.exit_code == 2 and "No such option" in result.output
    assert served == []


def test_dev_with_inngest_flags_serves_without_the_dashboard(tmp_path: Path) -> None:
    port = free_port()
    args = ["dev", "--host", "127.0.0.1", "-p", str(port), "--no-discovery", "--no-ui"]
    args += ["--sqlite-dir", str(tmp_path / "state"), "--tick", "150", "--retry-interval", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mainspring", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool | None:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            return httpx.get(f"{base}/health").status_code == 200 or None
        except httpx.TransportError:
            return None

    try:
        wait_until(up, timeout=30, what="server up")
        assert httpx.get(f"{base}/runs").status_code == 404
        assert httpx.get(f"{base}/v1/runs").status_code == 200
    finally:
        proc.terminate()
        _, log = proc.communicate(timeout=30)
    assert "--tick (an inngest-cli flag) is accepted and ignored" in log
    assert (tmp_path / "state" / "dev.db").exists()
