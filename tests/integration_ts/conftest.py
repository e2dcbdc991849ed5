"""Fixtures for the TypeScript SDK suite: a real Mainspring server + the Node app in `app/`.

The app (`app/server.js`) uses the official npm `inngest` SDK (v4, pinned in package-lock.json)
behind a plain Node `http` server. Each stack is started twice, once with the SDK's default async
checkpointing and once with `checkpointing: false`, and shared by the tests of the module.

Node and npm are required: without them the suite is skipped, or fails when `CI=true`.
Missing or stale `node_modules` is installed from the lockfile (`npm ci`), like `make ts-deps`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import nextjs_example
from .node_deps import ensure_deps, require_node
from .ts_harness import MIN_NODE_MAJOR, NODE_APP_DIR, TsStack, running_ts_stack


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _skip_or_fail(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: the TypeScript SDK suite must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node_app() -> Path:
    """The Node app directory with its dependencies installed; skip/fail without node+npm."""
    require_node((MIN_NODE_MAJOR, 0), "the TypeScript SDK suite", _skip_or_fail)
    ensure_deps(NODE_APP_DIR, NODE_APP_DIR / "node_modules" / "inngest" / "package.json")
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
