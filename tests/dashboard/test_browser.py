"""The dashboard in a real browser: debugging a run from the pages alone, live updates, forms."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from integration.harness import Stack

from .conftest import shot


def test_runs_list_then_a_three_step_run_with_outputs(stack: Stack, page: Page) -> None:
    run = stack.api.trigger_and_wait("core/chain", {"n": 1})
    page.goto(f"{stack.server.url}/runs")
    row = page.locator(f'tr[data-run-id="{run["run_id"]}"]')
    expect(row).to_contain_text("core-chain")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("core/chain")
    shot(page, "runs")

    row.locator("a.run-link").click()
    expect(page).to_have_url(re.compile(f"/runs/{run['run_id']}$"))
    steps = page.locator("ol.timeline > li")
    expect(steps).to_have_count(3)
    expect(steps.locator(".step-name")).to_have_text(["one", "two", "three"])
    for index in range(3):
        steps.nth(index).locator("summary").click()
    outputs = page.locator("pre.step-output")
    expect(outputs).to_have_count(3)
    assert [text.strip() for text in outputs.all_inner_texts()][:2] == ["2", "20"]
    expect(outputs.nth(2)).to_contain_text('"total": 25')
    expect(page.locator("#run-output")).to_contain_text('"total": 25')
    expect(page.locator("#trigger")).to_contain_text("core/chain")
    shot(page, "run-detail")


def test_failed_run_shows_its_error_stack_and_every_attempt(stack: Stack, page: Page) -> None:
    run = stack.api.trigger_and_wait("core/exhausted", statuses="Failed")
    page.goto(f"{stack.server.url}/runs/{run['run_id']}")
    error = page.locator("#run-error")
    expect(error).to_contain_text("doomed step always fails")
    expect(error.locator("pre.stack")).to_contain_text("Traceback")
    step = page.locator('li[data-step-name="doomed"]')
    expect(step).to_have_attribute("data-status", "failed")
    # retries=1: two attempts, each with its error
    attempts = step.locator(".attempt")
    expect(attempts).to_have_count(2)
    expect(attempts.nth(0)).to_contain_text("Attempt 1")
    expect(attempts.nth(1)).to_contain_text("Attempt 2")
    expect(attempts.nth(0)).to_contain_text("doomed step always fails")
    shot(page, "run-failed")


def test_send_event_from_the_form_and_watch_its_run_appear(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.server.url}/events")
    page.evaluate("window.__not_reloaded = true")
    form = page.locator("#send-event")
    form.locator("textarea").fill('{"name": "core/chain", "data": {"n": 7, "from": "form"')
    form.locator("button").click()
    expect(page.locator("#send-result .notice.error")).to_contain_text("not valid JSON")

    form.locator("textarea").fill('{"name": "core/chain", "data": {"n": 7, "from": "form"}}')
    form.locator("button").click()
    expect(page.locator("#send-result .notice.ok")).to_contain_text("Sent 1 event")
    event_id = page.locator("#send-result a").first.inner_text().strip()
    row = page.locator(f'#events-table tr[data-event-id="{event_id}"]')
    expect(row.locator('a.run-link[data-status="Completed"]')).to_have_count(1, timeout=30_000)
    assert page.evaluate("window.__not_reloaded") is True
    shot(page, "events")


def test_runs_page_filters_by_status_and_event_query(stack: Stack, page: Page) -> None:
    marked = stack.api.trigger_and_wait("core/chain", {"n": 3, "tag": "needle"})
    stack.api.trigger_and_wait("core/chain", {"n": 4, "tag": "hay"})
    page.goto(f"{stack.server.url}/runs")
    page.locator('input[name="query"]').fill('event.data.tag == "needle"')
    page.locator('select[name="function_id"]').select_option("core-chain")
    page.locator(".filters button[type=submit]").click()
    rows = page.locator("#runs-table tbody tr[data-run-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-run-id", str(marked["run_id"]))

    page.goto(f"{stack.server.url}/runs?status=Failed")
    statuses = page.locator("#runs-table tbody tr[data-status]")
    expect(statuses.first).to_have_attribute("data-status", "Failed")
    assert set(statuses.evaluate_all("rows => rows.map(r => r.dataset.status)")) == {"Failed"}

    page.goto(f"{stack.server.url}/runs?query=event.data.%3D%3D")
    expect(page.locator('.notice.error[data-field="query"]')).to_be_visible()


def test_a_run_started_elsewhere_appears_on_the_open_runs_page(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.server.url}/runs")
    page.evaluate("window.__not_reloaded = true")
    run = stack.api.trigger_and_wait("core/chain", {"n": 9})
    expect(page.locator(f'tr[data-run-id="{run["run_id"]}"]')).to_be_visible(timeout=15_000)
    assert page.evaluate("window.__not_reloaded") is True


def test_functions_invoke_and_apps_pages(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.server.url}/functions")
    expect(page.locator('tr[data-function="core-chain"]')).to_contain_text("core/chain")
    shot(page, "functions")

    page.locator('tr[data-function="core-chain"] a').first.click()
    page.locator("#invoke textarea").fill('{"n": 5}')
    page.locator("#invoke button").click()
    expect(page.locator("#invoke-result .notice.ok")).to_contain_text("Invoked core-chain")
    shot(page, "function-detail")

    page.goto(f"{stack.server.url}/apps")
    expect(page.locator("#apps-table tbody tr")).to_have_count(1)
    app_row = page.locator("#apps-table tbody tr")
    expect(app_row).to_contain_text("python")
    expect(app_row).to_contain_text("0.5.19")
    expect(app_row).to_contain_text("fast_api")
    page.locator("#apps-table button").click()
    expect(page.locator("#sync-result .notice.ok")).to_contain_text("Synced")
    shot(page, "apps")


def test_pages_in_dark_mode(stack: Stack, browser: Browser) -> None:
    run = stack.api.trigger_and_wait("core/parallel")
    context = browser.new_context(color_scheme="dark", viewport={"width": 1366, "height": 900})
    dark = context.new_page()
    try:
        dark.goto(f"{stack.server.url}/runs/{run['run_id']}")
        background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(21, 23, 28)"
        expect(dark.locator("ol.timeline > li")).to_have_count(4)
        shot(dark, "run-detail-dark")
        dark.goto(f"{stack.server.url}/runs")
        shot(dark, "runs-dark")
    finally:
        context.close()
