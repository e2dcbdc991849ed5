"""examples/nextjs, built with `next build` and run with `next start` against a real Mainspring.

Each of the example's flows runs as its README describes: a page watched and an alert on change,
the catalog sync fanning out one enrichment run per item, the LLM extraction retried after the fake
model's first failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from integration.browser import CHROMIUM, CHROMIUM_ARGS
from integration.harness import Api, JSONDict, ServerProcess, distinct_ports, wait_until

from .nextjs_example import NextStartProcess, install_and_build, skip_or_fail

APP_ID = "nextjs-example"
FUNCTIONS = ("scrape-and-alert", "catalog-sync", "enrich-item", "parse-document")
CATALOG_SIZE = 7
# Screenshots for the README's Examples section are picked from here (git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "dashboard" / "artifacts"


@dataclass
class NextStack:
    server: ServerProcess
    app: NextStartProcess
    api: Api

    def fake(self, path: str) -> str:
        return f"{self.app.base_url}/fake/{path}"


@pytest.fixture(scope="module")
def nextjs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NextStack]:
    node = install_and_build()
    workdir = tmp_path_factory.mktemp("nextjs")
    server_port, app_port = distinct_ports(2)
    server = ServerProcess(
        port=server_port,
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        app_urls=[f"http://127.0.0.1:{app_port}/api/inngest"],
    )
    app = NextStartProcess(
        node=node,
        port=app_port,
        server_url=server.url,
        log_dir=workdir,
        extra_env={
            "SNAPSHOT_DIR": str(workdir / "snapshots"),
            "CATALOG_SIZE": str(CATALOG_SIZE),
        },
    )
    api = Api(server)
    try:
        app.start()
        server.start()
        api.wait_for_sync(f"{APP_ID}-{fn}" for fn in FUNCTIONS)
        yield NextStack(server, app, api)
    finally:
        api.close()
        server.stop()
        app.stop()
        server.release_db()


def finished(stack: NextStack, event_name: str, data: JSONDict) -> JSONDict:
    event_id = stack.api.send_event(event_name, data)
    run = stack.api.run_for_event(event_id, timeout=30)
    return stack.api.wait_for_run_status(str(run["run_id"]), timeout=30)


def test_synced_with_the_next_adapter(nextjs: NextStack) -> None:
    info = nextjs.api.dev_info()
    (handler,) = info["handlers"]
    assert handler["sdk"]["framework"] == "nextjs", handler
    (sync,) = [f for f in info["functions"] if f["slug"] == f"{APP_ID}-catalog-sync"]
    assert [t.get("cron") for t in sync["triggers"]] == ["0 */6 * * *"], sync


def test_scrape_diffs_against_the_last_snapshot_and_alerts(nextjs: NextStack) -> None:
    url = nextjs.fake("site")
    first = finished(nextjs, "site/check.requested", {"url": url})
    assert first["output"] == {"url": url, "status": "first-snapshot", "lines": 3}
    again = finished(nextjs, "site/check.requested", {"url": url})
    assert again["output"] == {"url": url, "status": "unchanged"}

    new_page = ["Acme pricing", "Starter: $12 / month", "Team: $49 / month", "Enterprise: call us"]
    assert httpx.put(url, json={"lines": new_page}).status_code == 200
    changed = finished(nextjs, "site/check.requested", {"url": url})
    assert changed["output"] == {
        "url": url,
        "status": "changed",
        "added": ["Starter: $12 / month", "Enterprise: call us"],
        "removed": ["Starter: $9 / month"],
    }
    steps = [s["name"] for s in nextjs.api.run_steps(str(changed["run_id"]))]
    assert steps == ["fetch-page", "load-snapshot", "save-snapshot", "send-alert"]
    alerts = httpx.get(nextjs.fake("alerts")).json()["alerts"]
    assert alerts == [{k: v for k, v in changed["output"].items() if k != "status"}]


def test_cron_sync_fans_out_one_enrichment_per_item(nextjs: NextStack) -> None:
    # What `mainspring invoke` (or the dashboard's Invoke) does: run the cron function now.
    invoked = nextjs.api.http.post(f"/invoke/{APP_ID}-catalog-sync", json={"data": {}})
    assert invoked.status_code == 200, invoked.text
    (sync,) = nextjs.api.runs_for_event(invoked.json()["id"], timeout=30)
    sync_run = nextjs.api.wait_for_run_status(str(sync["run_id"]), timeout=30)
    assert sync_run["output"] == {"items": CATALOG_SIZE, "events": CATALOG_SIZE}

    def enrichments() -> list[JSONDict] | None:
        runs = nextjs.api.list_runs(f"{APP_ID}-enrich-item", status="Completed")
        mine = [r for r in runs if r["output"]["syncRunId"] == sync_run["run_id"]]
        return mine if len(mine) >= CATALOG_SIZE else None

    runs = wait_until(enrichments, timeout=30, what=f"{CATALOG_SIZE} enrichment runs")
    assert sorted(r["output"]["itemId"] for r in runs) == sorted(
        f"sku-{k}" for k in range(1, CATALOG_SIZE + 1)
    )
    assert {r["output"]["priceBand"] for r in runs} == {"mid", "premium"}
    assert len(nextjs.api.list_runs(f"{APP_ID}-enrich-item")) == CATALOG_SIZE


def test_llm_parse_is_retried_after_the_model_fails(nextjs: NextStack) -> None:
    text = "Invoice INV-7 from Acme Corp: 1200 EUR, due on the 31st."
    run = finished(nextjs, "document/uploaded", {"documentId": "doc-7", "text": text})
    assert run["output"] == {
        "documentId": "doc-7",
        "vendor": "Acme Corp",
        "amount": 1200,
        "currency": "EUR",
    }
    steps = {s["name"]: s for s in nextjs.api.run_steps(str(run["run_id"]))}
    assert steps["extract-with-llm"]["attempts"] == 2, steps["extract-with-llm"]
    assert steps["validate"]["attempts"] == 1


def test_dashboard_shows_the_failed_model_call_and_its_retry(nextjs: NextStack) -> None:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright (test extra)")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    text = "Receipt from Globex: 89.5 USD"
    run = finished(nextjs, "document/uploaded", {"documentId": "doc-8", "text": text})
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(20_000)
            page.goto(f"{nextjs.server.url}/runs/{run['run_id']}")
            step = page.locator('li[data-step-name="extract-with-llm"]')
            step.locator("summary").click()
            playwright.expect(step).to_have_attribute("data-status", "completed")
            playwright.expect(step.locator(".step-attempts")).to_have_text("2")
            failed = step.locator(".attempt")  # the failed attempts, each with its error
            playwright.expect(failed).to_have_count(1)
            playwright.expect(failed).to_contain_text("Attempt 1")
            playwright.expect(failed).to_contain_text("answered 503")
            playwright.expect(page.locator("#run-output")).to_contain_text("Globex")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "example-nextjs-llm-retry.png"), full_page=True)
        finally:
            browser.close()
