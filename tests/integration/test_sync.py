"""Sync: re-sync removes functions, identical registrations are not modifications,
invalid registrations are rejected."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .harness import AppProcess, JSONDict, Stack, assert_stays, free_port, running_stack, wait_until

SDK_HEADERS = {
    "Content-Type": "application/json",
    "X-Inngest-SDK": "inngest-py:v0.5.19",
    "User-Agent": "inngest-py:v0.5.19",
    "X-Inngest-Framework": "fast_api",
    "X-Inngest-Req-Version": "2",
}


@pytest.fixture(scope="module")
def syncer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # A long poll interval: in this module syncs happen only at start-up and when we PUT.
    with running_stack(
        tmp_path_factory.mktemp("sync"),
        "sync_app",
        ["syncer-keep", "syncer-drop"],
        poll_interval=600,
    ) as stack:
        yield stack


def runs_by_function(stack: Stack, event_id: str) -> dict[str, str]:
    runs = stack.api.data(f"/v1/events/{event_id}/runs")
    return {str(r["function_id"]): str(r["run_id"]) for r in runs}


def test_resync_removes_function(syncer: Stack) -> None:
    api = syncer.api
    # Before: both functions react to sync/ping.
    before = api.send_event("sync/ping")
    runs = api.runs_for_event(before, count=2)
    assert sorted(r["function_id"] for r in runs) == ["syncer-drop", "syncer-keep"]
    for run in runs:
        api.wait_for_run_status(str(run["run_id"]), "Completed")

    # Redeploy the app on the same port with one function fewer, then sync it.
    syncer.app.stop()
    reduced = AppProcess(
        "sync_app",
        port=syncer.app.port,
        server_url=syncer.server.url,
        log_dir=syncer.workdir,
        side_effect_log=syncer.sidefx.path,
        extra_env={"SYNC_APP_VARIANT": "reduced"},
        name="app-reduced",
    )
    syncer.app = reduced  # the fixture's teardown stops whichever app is current
    reduced.start()
    resp = reduced.sync()
    assert resp.status_code == 200, resp.text
    assert resp.json().get("modified") is True, resp.text

    wait_until(
        lambda: True if "syncer-drop" not in api.function_slugs() else None,
        timeout=10,
        what="syncer-drop to disappear from GET /dev",
    )
    assert "syncer-keep" in api.function_slugs()

    # After: the event starts only the remaining function.
    after = api.send_event("sync/ping")
    (run,) = api.runs_for_event(after)
    assert run["function_id"] == "syncer-keep"
    api.wait_for_run_status(str(run["run_id"]), "Completed")
    assert_stays(
        lambda: runs_by_function(syncer, after) == {"syncer-keep": str(run["run_id"])},
        duration=1.0,
        what="no run of the removed function",
    )
    assert [c["run_id"] for c in syncer.sidefx.select(kind="CALL", step="drop")] == [
        r["run_id"] for r in runs if r["function_id"] == "syncer-drop"
    ]

    # Syncing the same app again changes nothing.
    again = reduced.sync()
    assert again.status_code == 200, again.text
    assert again.json().get("modified") is False, again.text


def handmade_payload(app_name: str) -> JSONDict:
    url = f"http://127.0.0.1:{free_port()}/api/inngest"
    fn_id = f"{app_name}-only"
    return {
        "appname": app_name,
        "capabilities": {"connect": "v1", "in_band_sync": "v1", "trust_probe": "v1"},
        "deploy_type": "ping",
        "framework": "fast_api",
        "sdk": "py:v0.5.19",
        "url": url,
        "v": "0.1",
        "functions": [
            {
                "id": fn_id,
                "name": "only",
                "triggers": [{"event": f"{app_name}/only"}],
                "steps": {
                    "step": {
                        "id": "step",
                        "name": "step",
                        "runtime": {"type": "http", "url": f"{url}?fnId={fn_id}&stepId=step"},
                        "retries": {"attempts": 2},
                    }
                },
            }
        ],
    }


def register(stack: Stack, payload: Any) -> httpx.Response:
    return stack.api.http.post("/fn/register", json=payload, headers=SDK_HEADERS)


def test_identical_register_is_not_modified(syncer: Stack) -> None:
    payload = handmade_payload("handmade")

    first = register(syncer, payload)
    assert first.status_code == 200, first.text
    assert first.json()["ok"] is True
    assert first.json()["modified"] is True
    assert "handmade-only" in syncer.api.function_slugs()

    second = register(syncer, copy.deepcopy(payload))
    assert second.status_code == 200, second.text
    assert second.json()["ok"] is True
    assert second.json()["modified"] is False

    changed = copy.deepcopy(payload)
    changed["functions"][0]["triggers"] = [{"event": "handmade/other"}]
    third = register(syncer, changed)
    assert third.status_code == 200, third.text
    assert third.json()["modified"] is True


def test_invalid_cel_expression_is_rejected(syncer: Stack) -> None:
    payload = handmade_payload("badcel")
    payload["functions"][0]["triggers"] = [
        {"event": "badcel/only", "expression": "event.data.x == == 1"}
    ]
    resp = register(syncer, payload)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["status"] == 400
    assert isinstance(body["error"], str) and body["error"]
    assert "badcel-only" not in syncer.api.function_slugs()


def test_empty_app_name_is_rejected(syncer: Stack) -> None:
    payload = handmade_payload("emptyname")
    payload["appname"] = ""
    resp = register(syncer, payload)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["status"] == 400
    assert isinstance(body["error"], str) and body["error"]
    assert "emptyname-only" not in syncer.api.function_slugs()


def test_register_invalid_json_is_rejected(syncer: Stack) -> None:
    resp = syncer.api.http.post("/fn/register", content=b'{"appname": ', headers=SDK_HEADERS)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["status"] == 400
    assert isinstance(body["error"], str) and body["error"]
