"""The environment switcher in a real browser: one server with production and staging, the same
SDK app deployed to each (`INNGEST_ENV`), different runs in each. Switching shows the other
environment's runs only, names it in the header, and the dashboard's forms act in it; a cookie
naming an environment the server no longer serves falls back to production."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, expect

from integration.environments_kit import (
    SLUGS,
    env_api,
    start_env_app,
    started_server,
    synced,
    until,
)
from integration.harness import Api, AppProcess, ServerProcess, wait_until
from integration.production import running_cloud_server

from .conftest import shot


@dataclass
class TwoEnvs:
    server: ServerProcess
    prod: Api
    staging: Api
    runs: dict[str, str]  # environment -> the run made there


def _run_of(api: Api, n: int) -> str:
    run = api.run_for_event(api.send_event("env/echo", {"n": n}))
    return str(api.wait_for_run_status(str(run["run_id"]))["run_id"])


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoEnvs]:
    workdir = tmp_path_factory.mktemp("dash-envs")
    server = started_server(workdir, "--env", "staging")
    apps: list[AppProcess] = []
    try:
        for env in (None, "staging"):
            apps.append(start_env_app(server, workdir, env))  # X-Inngest-Env from INNGEST_ENV
        prod, staging = env_api(server, None), env_api(server, "staging")
        for api in (prod, staging):
            until(lambda api=api: set(SLUGS) <= synced(api), timeout=20, what="synced")
        runs = {"production": _run_of(prod, 1), "staging": _run_of(staging, 2)}
        yield TwoEnvs(server, prod, staging, runs)
    finally:
        for app in apps:
            app.stop()
        server.stop()
        server.release_db()


def test_switching_shows_the_other_environments_runs_only(envs: TwoEnvs, page: Page) -> None:
    page.goto(f"{envs.server.url}/runs")
    badge = page.locator("#env-badge")
    expect(badge).to_have_text("production")
    expect(badge).not_to_have_class(re.compile("env-other"))
    switcher = page.locator("#env-switch select")
    expect(switcher.locator("option")).to_have_text(["production (current)", "staging"])
    expect(page.locator(f'tr[data-run-id="{envs.runs["production"]}"]')).to_have_count(1)
    expect(page.locator(f'tr[data-run-id="{envs.runs["staging"]}"]')).to_have_count(0)

    page.goto(f"{envs.server.url}/runs?function_id=envs-echo")  # filters survive a switch
    page.locator("#env-switch select").select_option("staging")
    expect(page).to_have_url(re.compile(r"/runs\?function_id=envs-echo$"))
    expect(page.locator('select[name="function_id"]')).to_have_value("envs-echo")
    expect(page.locator("#env-badge")).to_have_text("staging")
    expect(page.locator("#env-badge")).to_have_class(re.compile("env-other"))
    expect(page).to_have_title(re.compile("staging"))
    expect(page.locator(f'tr[data-run-id="{envs.runs["staging"]}"]')).to_have_count(1)
    expect(page.locator(f'tr[data-run-id="{envs.runs["production"]}"]')).to_have_count(0)
    shot(page, "environments-staging")

    # every page is staging's now: a run page, the functions of its app
    page.goto(f"{envs.server.url}/runs/{envs.runs['staging']}")
    expect(page.locator("#run-output")).to_contain_text('"staging"')
    assert page.goto(f"{envs.server.url}/runs/{envs.runs['production']}").status == 404

    # from a run page, back to the list of the environment chosen
    page.goto(f"{envs.server.url}/runs/{envs.runs['staging']}")
    page.locator("#env-switch select").select_option("production")
    expect(page).to_have_url(re.compile(r"/runs$"))
    expect(page.locator("#env-badge")).to_have_text("production")
    expect(page.locator(f'tr[data-run-id="{envs.runs["production"]}"]')).to_have_count(1)
    expect(page.locator(f'tr[data-run-id="{envs.runs["staging"]}"]')).to_have_count(0)


def test_the_dashboards_forms_act_in_the_environment_shown(envs: TwoEnvs, page: Page) -> None:
    page.goto(f"{envs.server.url}/environment?env=staging&next=/events")
    expect(page).to_have_url(re.compile(r"/events$"))
    form = page.locator("#send-event")
    form.locator("textarea").fill('{"name": "env/echo", "data": {"n": "from-the-form"}}')
    form.locator("button").click()
    expect(page.locator("#send-result .notice.ok")).to_contain_text("Sent 1 event")

    def made_in(api: Api) -> list[str]:
        runs = api.list_runs("envs-echo")
        return [r["run_id"] for r in runs if (r.get("output") or {}).get("n") == "from-the-form"]

    wait_until(lambda: made_in(envs.staging) or None, timeout=20, what="the form's run in staging")
    assert made_in(envs.prod) == []


def test_a_stale_cookie_falls_back_to_production(envs: TwoEnvs, page: Page) -> None:
    page.context.add_cookies(
        [{"name": "mainspring_env", "value": "gone-branch", "url": envs.server.url}]
    )
    page.goto(f"{envs.server.url}/runs")
    expect(page).to_have_url(re.compile(r"/runs$"))
    expect(page.locator("#env-badge")).to_have_text("production")
    assert "mainspring_env" not in {c["name"] for c in page.context.cookies()}
    # the API still refuses it, naming the field
    stale = {"Cookie": "mainspring_env=gone-branch"}
    refused = httpx.get(f"{envs.server.url}/v1/runs", headers=stale)
    assert refused.status_code == 404 and refused.json()["field"] == "env"
    # a polling fragment asks htmx to reload the whole page, without the cookie
    polled = httpx.get(f"{envs.server.url}/ui/runs/rows", headers={**stale, "HX-Request": "true"})
    assert polled.status_code == 204 and polled.headers["hx-refresh"] == "true"
    assert polled.headers["set-cookie"].startswith("mainspring_env=")
    assert "Max-Age=0" in polled.headers["set-cookie"]


def test_switching_to_an_environment_not_served_is_a_404(envs: TwoEnvs) -> None:
    answer = httpx.get(f"{envs.server.url}/environment", params={"env": "nowhere"})
    assert answer.status_code == 404 and "nowhere" in answer.text
    bad = httpx.get(f"{envs.server.url}/environment", params={"env": "../x"})
    assert bad.status_code == 400 and bad.json()["field"] == "env"
    away = httpx.get(
        f"{envs.server.url}/environment", params={"env": "staging", "next": "//evil.example/x"}
    )
    assert away.status_code == 303 and away.headers["location"] == "/runs"
    assert "mainspring_env=staging" in away.headers["set-cookie"]


def test_a_read_only_session_switches_environments(
    tmp_path_factory: pytest.TempPathFactory, page: Page
) -> None:
    """Production mode: looking at another environment is a GET, so a read-only session,
    which may not POST, switches too; the pages then read that environment."""
    workdir = tmp_path_factory.mktemp("dash-envs-prod")
    with running_cloud_server(workdir, extra_args=["--env", "staging"]) as server:
        admin = {"Authorization": f"Bearer {server.signing_key}"}
        made = httpx.post(
            f"{server.url}/v1/admin/api-tokens",
            json={"name": "viewer", "scope": "read"},
            headers=admin,
        )
        assert made.status_code in (200, 201), made.text
        page.goto(f"{server.url}/login")
        page.fill("#token", made.json()["data"]["token"])
        page.click("button[type=submit]")
        page.goto(f"{server.url}/events")
        expect(page.locator("#env-badge")).to_have_text("production")
        page.locator("#env-switch select").select_option("staging")
        expect(page).to_have_url(re.compile(r"/events$"))
        expect(page.locator("#env-badge")).to_have_text("staging")
        expect(page.locator("#env-badge")).to_have_class(re.compile("env-other"))
