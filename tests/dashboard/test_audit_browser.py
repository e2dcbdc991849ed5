"""The Audit page in a real browser (dev mode, so the actor is `dev`): actions taken in the
dashboard appear with their reason, new ones arrive without a reload, the filters and the
"older" link page through the log, and a bad filter is shown inline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from integration.harness import Stack, running_stack

from .conftest import DASHBOARD_SLUGS, shot


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Its own server: pausing a function here must not reach the other browser tests."""
    with running_stack(tmp_path_factory.mktemp("audit"), "core_app", DASHBOARD_SLUGS) as found:
        yield found


def test_dashboard_actions_show_on_the_audit_page(stack: Stack, page: Page) -> None:
    base = stack.server.url
    page.goto(f"{base}/functions/core-chain")
    controls = page.locator("#pause-controls")
    controls.locator('input[name="reason"]').fill("deploying a fix")
    controls.locator("button").click()
    expect(page.locator("#pause-controls")).to_have_attribute("data-paused", "true")
    page.locator("#pause-controls button").click()  # resume
    expect(page.locator("#pause-controls")).to_have_attribute("data-paused", "false")

    page.get_by_role("link", name="Audit").click()
    rows = page.locator("#audit-table tbody tr[data-entry-id]")
    expect(rows.last.locator('[data-col="action"]')).to_have_text("app.synced")  # the app's own
    newest, oldest = rows.nth(0), rows.nth(1)
    expect(newest.locator('[data-col="action"]')).to_have_text("function.resume")
    expect(oldest.locator('[data-col="action"]')).to_have_text("function.pause")
    expect(oldest.locator('[data-col="actor"]')).to_have_text("dev")
    expect(oldest.locator('[data-col="reason"]')).to_have_text("deploying a fix")
    expect(oldest.locator('[data-col="target"] a')).to_have_attribute(
        "href", "/functions/core-chain"
    )

    # A new action shows up while the page is open (the rows poll).
    resp = stack.api.http.post("/v1/kill-switch", json={"reason": "incident 42"})
    assert resp.status_code == 200
    stack.api.http.request("DELETE", "/v1/kill-switch", json={})
    expect(page.locator('tr[data-action="kill_switch.off"]')).to_have_count(1, timeout=10_000)
    expect(page.locator('tr[data-action="kill_switch.on"] [data-col="reason"]')).to_have_text(
        "incident 42"
    )
    shot(page, "audit")

    # Filter by action.
    page.locator('#audit-filters select[name="action"]').select_option("function.pause")
    page.locator("#audit-filters button").click()
    expect(rows).to_have_count(1)
    expect(rows.first.locator('[data-col="action"]')).to_have_text("function.pause")
    assert "action=function.pause" in page.url

    # One entry per page: the "older" link walks back to the first action.
    page.goto(f"{base}/audit?limit=1")
    seen = []
    for _ in range(10):
        expect(rows).to_have_count(1)
        seen.append(rows.first.locator('[data-col="action"]').inner_text())
        older = page.locator("#audit-older")
        if older.count() == 0:
            break
        older.click()
    assert seen[:4] == ["kill_switch.off", "kill_switch.on", "function.resume", "function.pause"]
    assert seen[-1] == "app.synced"
    expect(page.locator("#audit-older")).to_have_count(0)


def test_a_bad_filter_is_shown_next_to_the_form(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.server.url}/audit")
    page.locator('#audit-filters input[name="since"]').fill("last tuesday")
    page.locator("#audit-filters button").click()
    alert = page.locator('[role="alert"][data-field="since"]')
    expect(alert).to_contain_text("since must be an RFC 3339 time")
