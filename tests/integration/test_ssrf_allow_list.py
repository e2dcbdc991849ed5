"""`--app-url-allow`: app URLs outside the allowed prefixes are refused and never called."""

from __future__ import annotations

from pathlib import Path

import httpx

from .harness import wait_until
from .production import bearer, new_signing_key, running_cloud_stack
from .test_production import PROD_FUNCTIONS


def test_only_allowed_app_urls_are_synced_or_called(tmp_path: Path) -> None:
    key = new_signing_key()
    with running_cloud_stack(
        tmp_path,
        "prod_app",
        functions=PROD_FUNCTIONS,
        signing_key=key,
        server_args=["--app-url-allow", "http://127.0.0.1:"],
    ) as stack:
        base = stack.server.url
        admin = {"Authorization": f"Bearer {key}"}
        # the allowed app synced (running_cloud_stack waited for it) and runs
        assert stack.api.trigger_and_wait("prod/chain")["status"] == "Completed"
        # an app URL elsewhere: refused at register time, field named
        step = {"id": "step", "name": "step", "runtime": {"url": "http://169.254.169.254/latest"}}
        body = {
            "url": "http://169.254.169.254/latest",
            "appName": "metadata",
            "functions": [
                {
                    "id": "metadata-f",
                    "name": "f",
                    "triggers": [{"event": "x"}],
                    "steps": {"step": step},
                }
            ],
        }
        resp = httpx.post(f"{base}/fn/register", json=body, headers=bearer(key))
        assert resp.status_code == 400 and resp.json()["field"] == "url", resp.text
        # the same app URL allowed but a step runtime elsewhere: refused too
        body["url"] = "http://127.0.0.1:9/api/inngest"
        resp = httpx.post(f"{base}/fn/register", json=body, headers=bearer(key))
        assert resp.status_code == 400, resp.text
        # a durable endpoint elsewhere: its run is refused, so it is never replayed there
        run_id = "01M8XV0SYJCK6H60EGMS96WFCQ"
        event = {
            "name": "inngest/http.request",
            "data": {"domain": "http://169.254.169.254", "method": "GET", "path": "/latest"},
        }
        resp = httpx.post(
            f"{base}/v1/checkpoint", json={"run_id": run_id, "event": event}, headers=bearer(key)
        )
        assert resp.status_code == 403 and resp.json()["field"] == "event.data.domain", resp.text
        assert stack.api.http.get(f"/v1/runs/{run_id}").status_code == 404
        # sync by URL: refused before any request goes out
        resp = httpx.post(f"{base}/v1/admin/apps", json={"url": "http://10.0.0.1/x"}, headers=admin)
        assert resp.status_code == 400 and resp.json()["field"] == "url"
        # an allowed URL is PUT at once (signed); the app answers by registering itself
        resp = httpx.post(f"{base}/v1/admin/apps", json={"url": stack.app.url}, headers=admin)
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"]["error"] is None
        wait_until(
            lambda: True if stack.api.function_count() == PROD_FUNCTIONS else None,
            timeout=10,
            what="the app still synced",
        )
