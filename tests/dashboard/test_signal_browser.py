"""Human in the loop from the dashboard: a run waiting for a signal (`step.waitForSignal`, which
only the TypeScript SDK has) shows a "Send signal" form that resumes it with a JSON payload.

Its own stack: the Node app on the official TypeScript SDK and a server (module-scoped).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from integration.harness import wait_until
from integration_ts import conftest as ts_conftest
from integration_ts.ts_harness import TsStack, running_ts_stack

from .conftest import shot

node_app = ts_conftest.node_app  # the Node app with its dependencies (skips without node)


@pytest.fixture(scope="module")
def ts(node_app: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TsStack]:
    with running_ts_stack(tmp_path_factory.mktemp("dash-signal"), checkpointing=True) as found:
        yield found


def waiting_run(ts: TsStack, signal: str, **opts: str) -> str:
    data = {"signal": signal, "timeout": "2m", **opts}
    event_id = ts.api.send_event("ts/signal.wait", data)
    run_id = str(ts.api.run_for_event(event_id)["run_id"])
    wait_until(
        lambda: (
            any(
                h["kind"] == "step.waiting_signal"
                for h in ts.api.data(f"/v1/runs/{run_id}/history")
            )
            or None
        ),
        timeout=20,
        what="the signal wait recorded",
        on_timeout=ts.logs,
    )
    return run_id


def test_the_send_signal_form_resumes_a_waiting_run(ts: TsStack, page: Page) -> None:
    signal = f"approve-{uuid.uuid4().hex[:8]}"
    run_id = waiting_run(ts, signal)
    page.goto(f"{ts.api.server.url}/runs/{run_id}")
    panel = page.locator("#signal-panel")
    expect(panel.locator("#signal-name")).to_have_text(signal)
    step = page.locator('li[data-step-name="wait-signal"]')
    expect(step).to_have_attribute("data-status", "waiting")
    shot(page, "run-waiting-for-signal")

    # A payload that is not JSON is refused next to the form; the run keeps waiting.
    form = panel.locator("form")
    form.locator("textarea").fill('{"approved": tru')
    form.locator("button").click()
    expect(page.locator("#action-result .notice.error")).to_contain_text("data: not valid JSON")
    page.wait_for_timeout(1_200)  # one refresh of the polled run body: what was typed stays
    expect(form.locator("textarea")).to_have_value('{"approved": tru')
    assert (ts.api.get_run(run_id) or {})["status"] == "Running"

    form.locator("textarea").fill('{"approved": true, "by": "ops"}')
    form.locator("button").click()
    expect(page.locator("#action-result .notice.ok")).to_contain_text(f"Signal '{signal}' sent")
    expect(page.locator(f'#action-result a[href="/runs/{run_id}"]')).to_be_visible()
    expect(page.locator("#run-status")).to_contain_text("Completed", timeout=20_000)
    expect(page.locator("#signal-panel")).to_have_count(0)
    expect(step).to_have_attribute("data-status", "completed")
    step.locator("summary").click()
    expect(step).to_contain_text('{"approved":true,"by":"ops"}')
    shot(page, "run-resumed-by-signal")

    run = ts.api.get_run(run_id) or {}
    assert run["output"]["got"] == {"signal": signal, "data": {"approved": True, "by": "ops"}}


def test_the_form_does_not_resume_a_newer_run_that_took_the_signal_over(
    ts: TsStack, page: Page
) -> None:
    signal = f"shared-{uuid.uuid4().hex[:8]}"
    older = waiting_run(ts, signal)
    page.goto(f"{ts.api.server.url}/runs/{older}")
    form = page.locator("#signal-panel form")
    expect(form).to_be_visible()
    page.route("**/ui/runs/*/detail", lambda route: route.abort())  # a page left open a while
    newer = waiting_run(ts, signal, conflict="replace")

    form.locator("button").click()
    expect(page.locator("#action-result .notice.error")).to_contain_text("no longer waits")
    assert (ts.api.get_run(newer) or {})["status"] == "Running", "the newer run was not resumed"

    page.unroute("**/ui/runs/*/detail")  # refreshed: no form, and who holds the name now
    expect(page.locator("#signal-panel")).to_have_count(0)
    step = page.locator('li[data-step-name="wait-signal"]')
    step.locator("summary").click()
    expect(step.locator("a.replaced-by")).to_have_text(newer)
    answer = ts.api.http.post("/v1/signals", json={"signal": signal, "data": "api"})
    assert answer.json()["data"] == {"run_id": newer}
