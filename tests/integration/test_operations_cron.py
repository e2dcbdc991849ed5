"""Crons do not fire while their function is paused or the kill switch is on; resuming goes on
with the schedule without firing the skipped slots (issue 7, item 3)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from .harness import Stack, running_stack, wait_until

SLUGS = ("cron-tick", "cron-paris", "cron-ping")
QUIET_S = 5.0  # two and a half `@every 2s` slots


@pytest.fixture(scope="module")
def cron(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("opscron"), "cron_app", SLUGS) as stack:
        yield stack


def ticks(stack: Stack) -> int:
    return len(stack.api.list_runs("cron-tick"))


def assert_no_tick_while_held(stack: Stack) -> None:
    time.sleep(0.5)  # a slot already being fired may still land
    before = ticks(stack)
    time.sleep(QUIET_S)
    assert ticks(stack) == before, "a cron fired while held"


def assert_ticks_again(stack: Stack) -> None:
    before = ticks(stack)
    wait_until(lambda: ticks(stack) > before or None, timeout=10, what="the next cron tick")
    time.sleep(0.5)
    assert ticks(stack) <= before + 1, "skipped slots were fired late"


@pytest.mark.slow
def test_paused_cron_skips_its_slots(cron: Stack) -> None:
    http = cron.api.http
    wait_until(lambda: ticks(cron) > 0 or None, timeout=10, what="a first tick")
    assert http.post("/v1/functions/cron-tick/pause").status_code == 200
    assert_no_tick_while_held(cron)
    assert http.post("/v1/functions/cron-tick/resume").status_code == 200
    assert_ticks_again(cron)


@pytest.mark.slow
def test_kill_switch_stops_crons(cron: Stack) -> None:
    http = cron.api.http
    assert http.post("/v1/kill-switch", json={"reason": "cron drill"}).status_code == 200
    try:
        assert_no_tick_while_held(cron)
    finally:
        assert http.request("DELETE", "/v1/kill-switch").status_code == 200
    assert_ticks_again(cron)
