"""Health, metrics and alerts over HTTP with the official Python SDK: `GET /v1/health`,
`GET /v1/metrics/functions/{id}`, Prometheus `/metrics`, and alert webhooks on trip and clear
(issue 7, item 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Stack, running_stack, start_run, wait_until
from .receivers import Webhook

SLUGS = ("ops-steps", "ops-quick", "ops-fails")


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, webhook: Webhook) -> Iterator[Stack]:
    env = {
        "MAINSPRING_ALERT_WEBHOOK_URL": webhook.url,
        "MAINSPRING_ALERT_INTERVAL": "200ms",
        "MAINSPRING_ALERT_DEAD_LETTERS": "3",
        "MAINSPRING_ALERT_MIN_RUNS": "3",
        "MAINSPRING_ALERT_EXPECTED": "ops-steps=1h",
    }
    workdir = tmp_path_factory.mktemp("observe")
    with running_stack(workdir, "ops_app", SLUGS, server_env=env) as running:
        yield running


def test_function_metrics(stack: Stack) -> None:
    api = stack.api
    for n in range(4):
        api.wait_for_run_status(start_run(api, "ops/quick", {"n": n}), "Completed")
    api.wait_for_run_status(start_run(api, "ops/steps", {"slow": 0.2}), "Completed")
    metrics = api.data("/v1/metrics/functions/ops-quick", hours=1)
    assert metrics["runs"] == 4 and metrics["counts"]["Completed"] == 4, metrics
    assert metrics["success_rate"] == 1.0
    assert metrics["duration_ms"]["samples"] == 4
    assert 0 <= metrics["duration_ms"]["p50"] <= metrics["duration_ms"]["p99"]
    assert metrics["steps"] == 4 and metrics["attempts"] == 4 and metrics["retries"] == 0
    slow = api.data("/v1/metrics/functions/ops-steps")
    assert slow["duration_ms"]["p95"] >= 200, slow

    http = api.http
    assert http.get("/v1/metrics/functions/nope").status_code == 404
    for hours in ("0", "-1", "x", "100000"):
        resp = http.get("/v1/metrics/functions/ops-quick", params={"hours": hours})
        assert resp.status_code == 400 and resp.json()["field"] == "hours", hours


def test_alerts_trip_and_clear_with_webhook_and_health(stack: Stack, webhook: Webhook) -> None:
    api = stack.api
    # ops-steps succeeded within its expected hour, so that rule does not fire.
    assert not webhook.posted("no_success:ops-steps", "firing")

    failed = [start_run(api, "ops/fails", {"i": i}) for i in range(3)]
    for run_id in failed:
        api.wait_for_run_status(run_id, "Failed")
    # Both trip in the same evaluation; their webhook posts go out one after the other.
    wait_until(
        lambda: (
            (
                webhook.posted("dead_letters", "firing")
                and webhook.posted("success_rate:ops-fails", "firing")
            )
            or None
        ),
        timeout=20,
        what="dead_letters and success_rate alerts posted",
    )
    tripped = webhook.posted("success_rate:ops-fails", "firing")
    assert tripped and tripped[0]["detail"]["success_rate"] == 0.0, webhook.received

    health = api.data("/v1/health")
    assert health["status"] == "alerting"
    firing = {a["rule"] for a in health["alerts"] if a["state"] == "firing"}
    assert {"dead_letters", "success_rate:ops-fails"} <= firing, health["alerts"]
    assert health["dead_letters"] == 3 and health["database"]["ok"] is True
    assert health["kill_switch"]["active"] is False
    by_slug = {f["function_id"]: f for f in health["functions"]}
    assert by_slug["ops-fails"]["success_rate"] == 0.0
    assert by_slug["ops-fails"]["last_success_at"] is None
    assert by_slug["ops-quick"]["seconds_since_last_success"] >= 0
    assert by_slug["ops-steps"]["p95_duration_ms"] >= 200

    # The bug is fixed and the dead letters replayed: they succeed and the alert clears.
    (stack.sidefx.path.parent / (stack.sidefx.path.name + ".fixed")).touch()
    resp = api.http.post("/v1/replays", json={"run_ids": failed})
    assert resp.status_code == 201
    for run_id in resp.json()["data"]["run_ids"]:
        assert api.wait_for_run_status(run_id, "Completed")["output"] == "fixed"
    wait_until(
        lambda: webhook.posted("dead_letters", "resolved") or None,
        timeout=20,
        what="dead_letters alert cleared",
    )
    assert len(webhook.posted("dead_letters", "firing")) == 1  # posted once, not every check

    # The kill switch is an alert too.
    api.http.post("/v1/kill-switch", json={"reason": "drill"})
    wait_until(
        lambda: webhook.posted("kill_switch", "firing") or None, timeout=20, what="kill switch"
    )
    assert webhook.posted("kill_switch", "firing")[0]["detail"]["reason"] == "drill"
    api.http.request("DELETE", "/v1/kill-switch")
    wait_until(
        lambda: webhook.posted("kill_switch", "resolved") or None,
        timeout=20,
        what="kill switch alert cleared",
    )


def test_prometheus_metrics(stack: Stack) -> None:
    resp = stack.api.http.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    assert 'mainspring_runs{function="ops-quick",status="Completed"} 4.0' in text
    assert 'mainspring_step_duration_seconds_count{function="ops-quick"}' in text
    assert "mainspring_sdk_call_errors_total" in text or "mainspring_sdk_call_errors" in text
    for name in (
        "mainspring_queue_depth",
        "mainspring_queue_ready",
        "mainspring_queue_oldest_ready_lag_seconds",
        "mainspring_kill_switch_active 0.0",
    ):
        assert name in text, name
