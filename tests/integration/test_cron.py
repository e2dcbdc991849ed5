"""Cron triggers through the official Python SDK: `@every 2s` cadence and event shape,
TZ-prefixed expressions, removal by re-sync, and missed ticks while the server was down.

Missed-tick rule asserted (docs/SERVER_CONTRACT.md, issue 4): of the slots that fell while the
server was down, only the FIRST one fires, exactly once, promptly at start-up (its run's event
has `scheduledAt` = that slot); every other missed slot is skipped; then the schedule continues
from the restart (the next regular slot at most one period after start-up, then every period).
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .harness import (
    Api,
    JSONDict,
    Stack,
    assert_stays,
    free_port,
    parse_rfc3339,
    restart_app,
    running_stack,
    wait_until,
)

TIMER = "inngest/scheduled.timer"
EVERY = "@every 2s"
PERIOD = 2.0
PARIS = "TZ=Europe/Paris * * * * *"
SLUGS = ("cron-tick", "cron-paris", "cron-ping")
SDK_HEADERS = {
    "Content-Type": "application/json",
    "X-Inngest-SDK": "inngest-py:v0.5.19",
    "User-Agent": "inngest-py:v0.5.19",
    "X-Inngest-Framework": "fast_api",
    "X-Inngest-Req-Version": "2",
}


@pytest.fixture(scope="module")
def cron(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("cron"), "cron_app", SLUGS, poll_interval=600
    ) as stack:
        yield stack


def slot(event: JSONDict) -> float:
    return parse_rfc3339(str(event["data"]["scheduledAt"]))


def tick_events(api: Api) -> list[JSONDict]:
    """Stored `inngest/scheduled.timer` events of the `@every 2s` schedule, by slot."""
    events = [e for e in api.list_events(TIMER) if (e.get("data") or {}).get("cron") == EVERY]
    return sorted(events, key=slot)


def check_tick_event(event: JSONDict, *, on_time: bool = True) -> None:
    assert event["name"] == TIMER
    data = event["data"]
    assert data["cron"] == EVERY
    assert str(event["id"]).startswith("cron-tick:"), event
    fire_delay = parse_rfc3339(str(data["fireAt"])) - slot(event)
    assert fire_delay >= 0.0, event
    if on_time:
        assert fire_delay < 1.0, f"no jitter configured, but fireAt - scheduledAt = {fire_delay}"


def check_one_run_each(stack: Stack, events: list[JSONDict]) -> list[str]:
    """Each tick event started exactly one run of cron-tick, which completes with its data."""
    run_ids = []
    for event in events:
        runs = stack.api.runs_for_event(str(event["internal_id"]), timeout=10)
        assert [r["function_id"] for r in runs] == ["cron-tick"], runs
        run = stack.api.wait_for_run_status(str(runs[0]["run_id"]), "Completed", timeout=15)
        assert run["output"] == event["data"]
        run_ids.append(str(run["run_id"]))
    return run_ids


def check_slots_unique(stack: Stack) -> None:
    """No two cron-tick runs saw the same scheduledAt (side-effect notes of every run)."""
    by_slot: dict[str, set[str]] = defaultdict(set)
    for note in stack.sidefx.select(kind="TICK"):
        assert note["event_name"] == TIMER, note
        assert note["data"]["cron"] == EVERY, note
        by_slot[str(note["data"]["scheduledAt"])].add(str(note["run_id"]))
    shared = {s: r for s, r in by_slot.items() if len(r) > 1}
    assert not shared, f"runs sharing a scheduledAt: {shared}"


def spacing(events: list[JSONDict]) -> list[float]:
    slots = [slot(e) for e in events]
    return [round(b - a, 3) for a, b in itertools.pairwise(slots)]


@pytest.mark.slow
def test_every_2s_fires_regularly(cron: Stack) -> None:
    api = cron.api
    window_start, window = time.time(), 7.0

    def in_window() -> list[JSONDict]:
        return [e for e in tick_events(api) if window_start <= slot(e) < window_start + window]

    wait_until(
        lambda: in_window() if len(in_window()) >= 3 else None,
        timeout=window + 2.0,
        what="3 ticks of @every 2s within 7 s",
        on_timeout=lambda: f"ticks: {tick_events(api)}\n{cron.server.log_tail()}",
    )
    # Let the window close (and the last slot's event land): never more than 4.
    assert_stays(
        lambda: len(in_window()) <= 4,
        duration=max(0.0, window_start + window + 0.5 - time.time()),
        what="at most 4 ticks within 7 s",
    )
    ticks = in_window()
    assert 3 <= len(ticks) <= 4, [e["data"] for e in ticks]
    assert len({slot(e) for e in ticks}) == len(ticks)
    assert all(1.5 <= gap <= 2.5 for gap in spacing(ticks)), spacing(ticks)
    for event in ticks:
        check_tick_event(event)
    check_one_run_each(cron, ticks)
    check_slots_unique(cron)


def test_tz_prefixed_cron_is_accepted_at_sync(cron: Stack) -> None:
    info = cron.api.dev_info()
    (fn,) = [f for f in info["functions"] if f["slug"] == "cron-paris"]
    assert [t.get("cron") for t in fn["triggers"]] == [PARIS], fn
    assert all(h["error"] is None for h in info["handlers"]), info["handlers"]


@pytest.mark.parametrize(
    "expr",
    ["61 * * * *", "* * * *", "TZ=Mars/Olympus * * * * *", "@every banana"],
)
def test_invalid_cron_is_rejected_at_sync(cron: Stack, expr: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/inngest"
    payload: dict[str, Any] = {
        "appname": "badcron",
        "deploy_type": "ping",
        "framework": "fast_api",
        "sdk": "py:v0.5.19",
        "url": url,
        "v": "0.1",
        "functions": [
            {
                "id": "badcron-only",
                "name": "only",
                "triggers": [{"cron": expr}],
                "steps": {
                    "step": {
                        "id": "step",
                        "name": "step",
                        "runtime": {"type": "http", "url": f"{url}?fnId=badcron-only&stepId=step"},
                    }
                },
            }
        ],
    }
    resp = httpx.post(f"{cron.server.url}/fn/register", json=payload, headers=SDK_HEADERS)
    assert resp.status_code == 400, f"{expr!r}: {resp.status_code} {resp.text}"
    assert resp.json()["status"] == 400
    assert "badcron-only" not in cron.api.function_slugs()


@pytest.mark.slow
def test_resync_without_cron_function_stops_ticks(cron: Stack) -> None:
    api = cron.api
    wait_until(lambda: tick_events(api) or None, timeout=10, what="at least one tick")

    reduced = restart_app(cron, extra_env={"CRON_APP_VARIANT": "reduced"}, name="app-reduced")
    resp = reduced.sync()
    assert resp.status_code == 200, resp.text
    assert resp.json().get("modified") is True, resp.text
    wait_until(
        lambda: True if "cron-tick" not in api.function_slugs() else None,
        timeout=10,
        what="cron-tick to disappear from GET /dev",
    )
    removed_at = time.time()
    assert {"cron-paris", "cron-ping"} <= api.function_slugs()

    def late_ticks() -> list[JSONDict]:
        return [e for e in tick_events(api) if slot(e) > removed_at]

    assert_stays(
        lambda: not late_ticks(),
        duration=2.5 * PERIOD,
        what="no tick of the removed cron function",
    )
    assert not [
        n
        for n in cron.sidefx.select(kind="TICK")
        if parse_rfc3339(str(n["data"]["scheduledAt"])) > removed_at
    ]


@pytest.mark.slow
def test_missed_ticks_fire_once_after_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    downtime = 5.0
    with running_stack(
        tmp_path_factory.mktemp("cron-missed"), "cron_app", SLUGS, poll_interval=600
    ) as stack:
        api = stack.api
        wait_until(
            lambda: True if len(tick_events(api)) >= 2 else None,
            timeout=10,
            what="two ticks before the kill",
        )
        killed_at = time.time()
        stack.server.kill()
        time.sleep(downtime)  # the outage under test, not a wait for something to happen
        restart_at = time.time()
        stack.server.start()
        api.reset()
        up_at = time.time()

        before = [
            e for e in tick_events(api) if parse_rfc3339(str(e["data"]["fireAt"])) < killed_at
        ]
        last_slot = max(slot(e) for e in before)
        missed = int((restart_at - last_slot) // PERIOD)
        assert missed >= 2, f"only {missed} slot(s) missed: the test has no teeth"

        def catch_up() -> list[JSONDict]:
            return [e for e in tick_events(api) if last_slot < slot(e) < restart_at]

        wait_until(
            lambda: catch_up() or None,
            timeout=5,
            what="the catch-up tick after the restart",
            on_timeout=lambda: f"ticks: {tick_events(api)}\n{stack.server.log_tail()}",
        )
        assert_stays(
            lambda: len(catch_up()) == 1,
            duration=max(0.0, up_at + 2.5 * PERIOD + 0.5 - time.time()),
            what=f"exactly one catch-up run for the {missed} missed slots",
        )
        (caught_up,) = catch_up()
        assert abs(slot(caught_up) - (last_slot + PERIOD)) < 0.25, (
            f"catch-up slot {caught_up['data']['scheduledAt']} is not the first missed slot "
            f"after {before[-1]['data']['scheduledAt']}"
        )
        check_tick_event(caught_up, on_time=False)
        fired = parse_rfc3339(str(caught_up["data"]["fireAt"]))
        assert restart_at <= fired <= up_at + 3.0, f"catch-up fireAt {caught_up['data']}"
        (catch_up_run,) = check_one_run_each(stack, [caught_up])
        (note,) = stack.sidefx.select(kind="TICK", run_id=catch_up_run)
        assert restart_at <= note["wall"] <= up_at + 3.0, "the catch-up run was not prompt"

        # Then the schedule continues from the restart.
        after = [e for e in tick_events(api) if restart_at <= slot(e) <= up_at + 2.5 * PERIOD]
        assert 2 <= len(after) <= 3, [e["data"] for e in after]
        assert slot(after[0]) - up_at <= PERIOD + 0.5
        assert all(1.5 <= gap <= 2.5 for gap in spacing(after)), spacing(after)
        for event in after:
            check_tick_event(event)
        check_one_run_each(stack, after)
        check_slots_unique(stack)
        ids = [e["id"] for e in tick_events(api)]
        assert len(ids) == len(set(ids)), ids
