"""Fixtures for the black-box integration suite (real server + real SDK app processes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Stack, running_stack

CORE_SLUGS = (
    "core-chain",
    "core-loop",
    "core-flaky",
    "core-exhausted",
    "core-fatal",
    "core-retry-after",
    "core-sleeper",
    "core-parallel",
    "core-fanout",
    "core-fanout-child",
    "core-fails",
    "core-fails-failure",
    "core-dedupe",
)


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One Mainspring server + the `core_app` SDK app, shared by the tests of a module."""
    with running_stack(tmp_path_factory.mktemp("core"), "core_app", CORE_SLUGS) as stack:
        yield stack
