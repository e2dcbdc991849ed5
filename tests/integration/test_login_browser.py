"""Dashboard login, logout and CSRF in a real browser (Debian's chromium via Playwright): the
protected targets are dashboard pages and a state-changing `POST /ui/…` (404 for an unknown run
once past the gate, 403 when the CSRF token is missing)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS
from .production import CloudServer, running_cloud_server

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI", "").lower() not in {"1", "true"},
    reason=f"{CHROMIUM} not installed (make chromium)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with running_cloud_server(tmp_path_factory.mktemp("login")) as server:
        yield server


@pytest.fixture()
def page(server: CloudServer) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=server.url)
            yield context.new_page()
        finally:
            browser.close()


def test_login_logout_and_csrf(server: CloudServer, page: object) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto("/runs?status=Failed")
    assert page.url.endswith("/login?next=/runs%3Fstatus%3DFailed")

    page.fill("#token", "not-a-token")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "That token is not valid."

    page.fill("#token", server.signing_key)
    page.click("button[type=submit]")
    assert page.url == f"{server.url}/runs?status=Failed"  # back where we were headed
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["mainspring_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("mainspring_session") == -1  # HttpOnly

    info = page.request.get("/auth/session").json()
    assert info["scope"] == "admin"
    token = info["csrf_token"]

    # A state-changing dashboard request without (or with a wrong) CSRF token is refused.
    assert page.request.post("/ui/runs/x/cancel").status == 403
    assert page.request.post("/ui/runs/x/cancel", headers={"X-CSRF-Token": "no"}).status == 403
    assert page.request.post("/ui/runs/x/cancel", form={"csrf_token": "no"}).status == 403
    # With the token (header or form field) it passes the gate (no such page on this branch).
    assert page.request.post("/ui/runs/x/cancel", headers={"X-CSRF-Token": token}).status == 404
    assert page.request.post("/ui/runs/x/cancel", form={"csrf_token": token}).status == 404

    # Logging out needs the token too; then the dashboard asks for a login again.
    assert page.request.post("/logout", max_redirects=0).status == 403
    page.set_content(
        f'<form method="post" action="{server.url}/logout">'
        f'<input name="csrf_token" value="{token}"><button id="out">out</button></form>'
    )
    page.click("#out")
    page.wait_for_url("**/login")
    assert "mainspring_session" not in {c["name"] for c in page.context.cookies()}
    page.goto("/")
    assert "/login" in page.url


def test_a_read_only_session_cannot_change_anything(server: CloudServer, page: object) -> None:
    import httpx
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    made = httpx.post(
        f"{server.url}/v1/admin/api-tokens",
        json={"name": "viewer", "scope": "read"},
        headers={"Authorization": f"Bearer {server.signing_key}"},
    )
    page.goto("/login")
    page.fill("#token", made.json()["data"]["token"])
    page.click("button[type=submit]")
    token = page.request.get("/auth/session").json()["csrf_token"]
    assert page.request.get("/v1/runs").status == 200  # the session reads the API
    assert page.request.post("/ui/runs/x/cancel", headers={"X-CSRF-Token": token}).status == 403
