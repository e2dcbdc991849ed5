"""Operating from the dashboard: pause/resume, kill switch, rerun, cancel, bulk replay.

Its own server (module-scoped stack), so a paused function or the kill switch never leaks into
the other browser tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from integration.harness import Stack, assert_stays, running_stack, wait_until

from .conftest import DASHBOARD_SLUGS, shot

HOLD_S = 2.0  # how long "nothing starts" must hold (well beyond the idle event→call latency)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own server; alert rules evaluated every 200 ms so their state shows fast."""
    env = {"MAINSPRING_ALERT_INTERVAL": "200ms"}
    workdir = tmp_path_factory.mktemp("ops")
    with running_stack(workdir, "core_app", DASHBOARD_SLUGS, server_env=env) as found:
        yield found


def started(stack: Stack, run_id: str) -> bool:
    return bool(stack.sidefx.select(kind="START", run_id=run_id))


def send_from_form(page: Page, stack: Stack, payload: str) -> str:
    page.goto(f"{stack.server.url}/events")
    page.locator("#send-event textarea").fill(payload)
    page.locator("#send-event button").click()
    expect(page.locator("#send-result .notice.ok")).to_be_visible()
    return page.locator("#send-result a").first.inner_text().strip()


def test_pause_a_function_send_an_event_nothing_runs_resume_it_runs(
    stack: Stack, page: Page
) -> None:
    page.goto(f"{stack.server.url}/functions/core-chain")
    controls = page.locator("#pause-controls")
    controls.locator('input[name="reason"]').fill("deploying a fix")
    controls.locator("button").click()
    expect(page.locator("#pause-controls")).to_have_attribute("data-paused", "true")
    expect(page.locator("#pause-state")).to_contain_text("deploying a fix")
    shot(page, "function-paused")
    page.goto(f"{stack.server.url}/functions")
    expect(page.locator('tr[data-function="core-chain"] .status-paused')).to_be_visible()

    event_id = send_from_form(page, stack, '{"name": "core/chain", "data": {"n": 1}}')
    run_id = str(stack.api.run_for_event(event_id)["run_id"])  # stored, held
    assert_stays(lambda: not started(stack, run_id), duration=HOLD_S, what="no SDK call")
    page.goto(f"{stack.server.url}/runs?function_id=core-chain")
    row = page.locator(f'tr[data-run-id="{run_id}"]')
    expect(row).to_contain_text("not started")

    page.goto(f"{stack.server.url}/functions/core-chain")
    page.locator("#pause-controls button").click()  # Resume, held events start (the default)
    expect(page.locator("#pause-controls")).to_have_attribute("data-paused", "false")
    page.goto(f"{stack.server.url}/runs/{run_id}")
    expect(page.locator("#run-status")).to_contain_text("Completed", timeout=20_000)
    expect(page.locator("ol.timeline > li")).to_have_count(3)


def test_cancel_a_held_run_from_its_page(stack: Stack, page: Page) -> None:
    stack.api.http.post("/v1/functions/core-chain/pause", json={"reason": "cancel test"})
    try:
        event_id = stack.api.send_event("core/chain", {"n": 2})
        run_id = str(stack.api.run_for_event(event_id)["run_id"])
        page.goto(f"{stack.server.url}/runs/{run_id}")
        expect(page.locator("#run-held")).to_be_visible()
        page.locator(".actions button.danger").click()
        expect(page.locator("#action-result")).to_contain_text("Cancelled")
        expect(page.locator("#run-status")).to_contain_text("Cancelled", timeout=10_000)
    finally:
        stack.api.http.post("/v1/functions/core-chain/resume", json={})
    assert not started(stack, run_id)


def test_rerun_button_starts_a_new_run_with_the_same_event(stack: Stack, page: Page) -> None:
    run = stack.api.trigger_and_wait("core/chain", {"n": 3})
    page.goto(f"{stack.server.url}/runs/{run['run_id']}")
    page.get_by_role("button", name="Rerun", exact=True).click()
    link = page.locator("#action-result a")
    expect(link).to_have_count(1)
    new_id = link.inner_text().strip()
    assert new_id != run["run_id"]
    link.click()
    expect(page.locator("#original-run")).to_have_text(str(run["run_id"]))
    expect(page.locator("#run-status")).to_contain_text("Completed", timeout=20_000)
    expect(page.locator("#trigger")).to_contain_text('"n": 3')


def test_rerun_from_a_step_keeps_the_steps_before_it(stack: Stack, page: Page) -> None:
    run = stack.api.trigger_and_wait("core/chain", {"n": 4})
    page.goto(f"{stack.server.url}/runs/{run['run_id']}")
    page.locator("form.rerun-from select").select_option(label="two")
    page.get_by_role("button", name="Rerun from step").click()
    link = page.locator("#action-result a")
    expect(link).to_have_count(1)
    new_id = link.inner_text().strip()
    rerun = stack.api.wait_for_run_status(new_id, "Completed")
    assert rerun["output"] == run["output"]
    ran = [e["step"] for e in stack.sidefx.select(kind="START", run_id=new_id)]
    assert ran == ["two", "three"]


def test_kill_switch_stops_all_work_until_released(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.server.url}/operations")
    form = page.locator("#kill-switch form")
    form.locator('input[name="reason"]').fill("bad deploy")
    form.locator('input[name="requested_by"]').fill("alice")
    form.locator("button").click()
    expect(page.locator("#operations-result")).to_contain_text("Kill switch active")
    state = page.locator("#kill-switch-state")
    expect(state).to_have_attribute("data-active", "true")
    expect(state).to_contain_text("bad deploy")
    expect(state).to_contain_text("alice")
    assert stack.api.get_json("/v1/kill-switch")["data"]["active"] is True
    alert = page.locator('#alerts tr[data-rule="kill_switch"]')
    expect(alert).to_have_attribute("data-state", "firing", timeout=10_000)
    expect(page.locator("#health")).to_have_attribute("data-status", "alerting")
    shot(page, "operations-kill-switch")

    held = [
        str(stack.api.run_for_event(stack.api.send_event(name, data))["run_id"])
        for name, data in (("core/chain", {"n": 4}), ("core/parallel", {}), ("core/sleeper", {}))
    ]
    assert_stays(
        lambda: not any(started(stack, run_id) for run_id in held),
        duration=HOLD_S,
        what="no SDK call under the kill switch",
    )

    page.locator("#kill-switch form button").click()  # release; held events start
    expect(page.locator("#operations-result")).to_contain_text("Kill switch released")
    expect(page.locator("#kill-switch-state")).to_have_attribute("data-active", "false")
    expect(alert).to_have_attribute("data-state", "ok", timeout=10_000)
    for run_id in held:
        stack.api.wait_for_run_status(run_id, "Completed", timeout=30)


def test_bulk_replay_of_twenty_failed_runs(stack: Stack, page: Page) -> None:
    failed = [
        str(stack.api.trigger_and_wait("core/fails", {"i": i}, statuses="Failed")["run_id"])
        for i in range(20)
    ]
    page.goto(f"{stack.server.url}/operations")
    boxes = page.locator('#dead-letters input[name="run_id"]')
    expect(boxes).to_have_count(20)
    page.locator("#select-all").check()
    shot(page, "operations-dead-letters")
    page.get_by_role("button", name="Replay selected").click()
    notice = page.locator("#operations-result .notice.ok")
    expect(notice).to_contain_text("started 20 new run(s)")
    new_ids = [text.strip() for text in notice.locator("a").all_inner_texts()]
    assert len(set(new_ids)) == 20 and not set(new_ids) & set(failed)

    def all_ended() -> list[str] | None:
        runs = [stack.api.get_run(run_id) for run_id in new_ids]
        done = [r for r in runs if r is not None and r["status"] == "Failed"]
        return [r["run_id"] for r in done] if len(done) == 20 else None

    wait_until(all_ended, timeout=60, what="20 replayed runs to run (and fail again)")
    originals = {stack.api.data(f"/v2/runs/{run_id}")["original_run_id"] for run_id in new_ids}
    assert originals == set(failed)
    expect(page.locator('#dead-letters input[name="run_id"]')).to_have_count(40, timeout=10_000)


def test_override_flow_control_from_the_function_page(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.server.url}/functions/core-chain")
    panel = page.locator("#overrides")
    expect(panel.locator('tr[data-setting="concurrency"] td').nth(1)).to_have_text("—")
    panel.locator('input[name="concurrency"]').fill("2")
    panel.locator('input[name="priority"]').fill("10")
    panel.locator('input[name="requested_by"]').fill("ops")
    panel.get_by_role("button", name="Save overrides").click()
    expect(page.locator("#overrides .notice.ok")).to_contain_text("Overrides saved")
    expect(page.locator('#overrides input[name="concurrency"]')).to_have_value("2")
    expect(page.locator("#overrides-updated")).to_contain_text("by ops")
    shot(page, "function-overrides")
    shown = stack.api.data("/v1/functions/core-chain/overrides")
    assert shown["overrides"] == {"concurrency": 2, "priority": {"run": "10"}}
    event_id = stack.api.send_event("core/chain", {"n": 5})
    run_id = str(stack.api.run_for_event(event_id)["run_id"])
    assert stack.api.wait_for_run_status(run_id, "Completed", timeout=20)

    page.locator('#overrides input[name="throttle_limit"]').fill("5")  # no period
    page.locator("#overrides").get_by_role("button", name="Save overrides").click()
    expect(page.locator("#overrides .notice.error")).to_contain_text("throttle.period")
    assert stack.api.data("/v1/functions/core-chain/overrides")["overrides"]["concurrency"] == 2

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#overrides").get_by_role("button", name="Clear overrides").click()
    expect(page.locator("#overrides .notice.ok")).to_contain_text("Overrides cleared")
    assert stack.api.data("/v1/functions/core-chain/overrides")["overrides"] == {}
