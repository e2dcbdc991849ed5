"""Fixtures for the TypeScript SDK suite: a real Mainspring server + the Node app in `app/`.

The app (`app/server.js`) uses the official npm `inngest` SDK (v4, pinned in package-lock.json)
behind a plain Node `http` server. Each stack is started twice, once with the SDK's default async
checkpointing and once with `checkpointing: false`, and shared by the tests of the module.

Node and npm are required: without them the suite is skipped, or fails when `CI=true`.
Missing or stale `node_modules` is installed from the lockfile (`npm ci`), like `make ts-deps`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import nextjs_example
from .ts_harness import MIN_NODE_MAJOR, NODE_APP_DIR, TsStack, running_ts_stack


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _skip_or_fail(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: the TypeScript SDK suite must run)", pytrace=False)
    pytest.skip(reason)


def _node_major(node: str) -> int | None:
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else None


def _deps_stale() -> bool:
    modules = NODE_APP_DIR / "node_modules"
    lock = NODE_APP_DIR / "package-lock.json"
    if not (modules / "inngest" / "package.json").is_file():
        return True
    return lock.stat().st_mtime > modules.stat().st_mtime


@pytest.fixture(scope="session")
def node_app() -> Path:
    """The Node app directory with its dependencies installed; skip/fail without node+npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _skip_or_fail(f"node and npm are required (node={node}, npm={npm})")
    assert node is not None and npm is not None
    major = _node_major(node)
    if major is None or major < MIN_NODE_MAJOR:
        _skip_or_fail(f"node >= {MIN_NODE_MAJOR} is required, found major version {major}")
    if _deps_stale():
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_APP_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
    return NODE_APP_DIR


@pytest.fixture(scope="module", params=[True, False], ids=["checkpointing", "classic"])
def ts(
    request: pytest.FixtureRequest, node_app: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TsStack]:
    """One server + Node app per checkpointing mode, shared by the tests of the module."""
    checkpointing = bool(request.param)
    workdir = tmp_path_factory.mktemp("ts-cp" if checkpointing else "ts-classic")
    with running_ts_stack(workdir, checkpointing=checkpointing) as stack:
        yield stack


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if nextjs_example.skipped_because is not None:
        terminalreporter.section("examples/nextjs was NOT TESTED", sep="!", red=True, bold=True)
        terminalreporter.line(nextjs_example.skipped_because, red=True)
