"""Hostile input against `mainspring start`: limits answer 4xx naming the field; a huge or
slow SDK reply is a retriable failure, never a hang or an out-of-memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .production import CloudStack, bearer, new_signing_key, running_cloud_stack
from .test_production import PROD_FUNCTIONS


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudStack]:
    with running_cloud_stack(
        tmp_path_factory.mktemp("limits"),
        "prod_app",
        functions=PROD_FUNCTIONS,
        signing_key=new_signing_key(),
        server_args=["--max-reply-bytes", "65536", "--call-timeout", "1"],
    ) as stack:
        yield stack


def deep(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deep_json_in_an_event_is_refused(limited: CloudStack) -> None:
    body = json.dumps({"name": "prod/deep", "data": deep(100)}).encode()
    resp = limited.api.post_events_raw(body)
    assert resp.status_code == 400
    assert resp.json()["field"] == "body"
    assert limited.api.list_events("prod/deep") == []


def test_too_many_events_and_too_large_bodies(limited: CloudStack) -> None:
    many = json.dumps([{"name": "prod/many"}] * 5001).encode()
    assert limited.api.post_events_raw(many).status_code == 400
    big = json.dumps({"name": "prod/big", "data": {"s": "x" * (4 * 1024 * 1024)}}).encode()
    resp = limited.api.post_events_raw(big)
    assert resp.status_code == 413 and resp.json()["field"] == "body"
    assert limited.api.list_events("prod/many") == limited.api.list_events("prod/big") == []


def test_register_limits(limited: CloudStack) -> None:
    auth = bearer(limited.server.signing_key)
    fn = {
        "id": "evil-f",
        "name": "f",
        "triggers": [{"event": "e"}] * 11,
        "steps": {
            "step": {
                "id": "step",
                "name": "step",
                "runtime": {"type": "http", "url": "http://127.0.0.1:1/"},
            }
        },
    }
    body = {"url": "http://127.0.0.1:1/", "appName": "evil", "functions": [fn]}
    resp = httpx.post(f"{limited.server.url}/fn/register", json=body, headers=auth)
    assert resp.status_code == 400 and resp.json()["field"] == "functions.0.triggers"
    fn["triggers"] = [
        {"event": "e", "expression": "event.data.a.all(x, event.data.b.exists(y, y == x))"}
    ]
    resp = httpx.post(f"{limited.server.url}/fn/register", json=body, headers=auth)
    assert resp.status_code == 400, resp.text
    assert "too costly" in resp.json()["error"]
    fn["triggers"] = [{"cron": "0 0 30 2 *"}]
    resp = httpx.post(f"{limited.server.url}/fn/register", json=body, headers=auth)
    assert resp.status_code == 400 and "cron" in resp.json()["field"]


def test_a_huge_reply_is_cut_off_and_counted_as_a_retriable_failure(limited: CloudStack) -> None:
    run = limited.api.trigger_and_wait("prod/huge", statuses="Failed", timeout=60)
    assert "larger than 65536 bytes" in json.dumps(run["output"])
    history = limited.api.data(f"/v1/runs/{run['run_id']}/history")
    # attempt 0 failed and was retried (retries=1); the second failure ended the run
    assert [e["attempt"] for e in history if e["kind"] == "call.error"] == [0], history


def test_a_slow_reply_is_cut_off_by_the_call_timeout(limited: CloudStack) -> None:
    run = limited.api.trigger_and_wait("prod/slow", statuses="Failed", timeout=60)
    assert "Timeout" in json.dumps(run["output"])


def test_a_small_reply_still_passes(limited: CloudStack) -> None:
    run = limited.api.trigger_and_wait("prod/huge", {"size": 1000}, timeout=30)
    assert run["output"] == "x" * 1000
