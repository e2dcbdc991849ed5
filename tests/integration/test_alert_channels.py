"""Alerts where people read them (issue 18, part 4): Slack (Block Kit) and e-mail (SMTP) received
by loopback receivers, trip and clear, each channel throttled on its own; the rule kinds p95
duration, queue lag and failures in a row tripped by real runs of the official Python SDK; the
test alert over REST."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .harness import Stack, running_stack, start_run, wait_until
from .receivers import Mailbox, SlackHook, Webhook

SLUGS = ("ops-steps", "ops-quick", "ops-fails")
SLACK_THROTTLE_S = 5  # long enough to flap twice inside it on a busy machine


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackHook]:
    hook = SlackHook()
    yield hook
    hook.close()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    slack: SlackHook,
    mailbox: Mailbox,
    webhook: Webhook,
) -> Iterator[Stack]:
    env = {
        "MAINSPRING_ALERT_INTERVAL": "200ms",
        "MAINSPRING_ALERT_MIN_RUNS": "1",
        "MAINSPRING_ALERT_MAX_P95": "ops-steps=400ms",
        "MAINSPRING_ALERT_MAX_QUEUE_LAG": "500ms",
        "MAINSPRING_ALERT_CONSECUTIVE_FAILURES": "2",
        "MAINSPRING_ALERT_WEBHOOK_URL": webhook.url,
        "MAINSPRING_ALERT_SLACK_WEBHOOK_URL": slack.url,
        "MAINSPRING_ALERT_SLACK_THROTTLE": f"{SLACK_THROTTLE_S}s",
        "MAINSPRING_ALERT_SMTP_HOST": "127.0.0.1",
        "MAINSPRING_ALERT_SMTP_PORT": str(mailbox.port),
        "MAINSPRING_ALERT_SMTP_STARTTLS": "false",
        "MAINSPRING_ALERT_EMAIL_FROM": "mainspring@example.test",
        "MAINSPRING_ALERT_EMAIL_TO": "oncall@example.test, lead@example.test",
        "MAINSPRING_ALERT_EMAIL_THROTTLE": "1h",
        # One SDK call at a time: a slow step makes the next run's item wait (queue lag).
        "MAINSPRING_MAX_IN_FLIGHT": "1",
    }
    workdir = tmp_path_factory.mktemp("alert-channels")
    with running_stack(workdir, "ops_app", SLUGS, server_env=env) as running:
        yield running


def rule_state(stack: Stack, rule: str) -> str | None:
    states = stack.api.data("/v1/alerts")["states"]
    return next((s["state"] for s in states if s["rule"] == rule), None)


def wait_state(stack: Stack, rule: str, state: str) -> None:
    wait_until(lambda: rule_state(stack, rule) == state or None, timeout=20, what=f"{rule} {state}")


def test_test_alert_over_rest(
    stack: Stack, slack: SlackHook, mailbox: Mailbox, webhook: Webhook
) -> None:
    http = stack.api.http
    overview = stack.api.data("/v1/alerts")
    assert [c["channel"] for c in overview["channels"]] == ["webhook", "slack", "email"]
    assert overview["rules"]["consecutive_failures"] == 2
    assert "smtp_password" not in str(overview)

    webhook.status = 500
    try:
        resp = http.post("/v1/alerts/test", json={})
    finally:
        webhook.status = 204
    assert resp.status_code == 200, resp.text
    results = {r["channel"]: r for r in resp.json()["data"]}
    assert results["slack"]["ok"] and results["email"]["ok"], results
    # The webhook answers 500: the button says so instead of pretending.
    assert not results["webhook"]["ok"] and "500" in results["webhook"]["error"]
    assert slack.posted("test", "test") and mailbox.mailed("test", "test")
    mail = mailbox.mailed("test", "test")[0]
    assert mail["From"] == "mainspring@example.test"
    assert mailbox.envelopes[0][1] == ["oncall@example.test", "lead@example.test"]

    resp = http.post("/v1/alerts/test", json={"channel": "email"})
    assert [r["channel"] for r in resp.json()["data"]] == ["email"]
    assert len(mailbox.mailed("test", "test")) == 2 and len(slack.posted("test", "test")) == 1
    for body in ({"channel": "pager"}, {"channel": 3}):
        resp = http.post("/v1/alerts/test", json=body)
        assert resp.status_code == 400 and resp.json()["field"] == "channel", resp.text


def test_kill_switch_flapping_is_throttled_per_channel(
    stack: Stack, slack: SlackHook, mailbox: Mailbox, webhook: Webhook
) -> None:
    http = stack.api.http

    def flip(on: bool) -> None:
        if on:
            assert http.post("/v1/kill-switch", json={"reason": "drill"}).status_code == 200
        else:
            assert http.request("DELETE", "/v1/kill-switch").status_code == 200
        wait_state(stack, "kill_switch", "firing" if on else "ok")

    flip(True)
    wait_until(
        lambda: (
            (slack.posted("kill_switch", "firing") and mailbox.mailed("kill_switch", "firing"))
            or None
        ),
        timeout=20,
        what="kill switch announced on Slack and by e-mail",
    )
    first = slack.posted("kill_switch", "firing")[0]
    assert "drill" in first["text"] and first["blocks"][0]["type"] == "header"
    assert "drill" in mailbox.mailed("kill_switch", "firing")[0].get_content()
    flip(False)
    wait_until(
        lambda: (
            (slack.posted("kill_switch", "resolved") and mailbox.mailed("kill_switch", "resolved"))
            or None
        ),
        timeout=20,
        what="kill switch cleared on both channels",
    )
    # Flapping inside the throttle period: no channel hears of it yet.
    flip(True)
    flip(False)
    flip(True)
    assert len(slack.posted("kill_switch", "firing")) == 1
    # When Slack's period ends and the rule still fires, one message says what was held back.
    wait_until(
        lambda: len(slack.posted("kill_switch", "firing")) == 2 or None,
        timeout=SLACK_THROTTLE_S + 10,
        what="the held-back trip announced after the throttle period",
    )
    assert "held back by the throttle" in slack.posted("kill_switch", "firing")[1]["text"]
    flip(False)
    wait_until(
        lambda: len(slack.posted("kill_switch", "resolved")) == 2 or None,
        timeout=20,
        what="the second resolve on Slack",
    )
    # E-mail's period (1 h) has not ended: one trip and one clear, however often it flapped.
    assert len(mailbox.mailed("kill_switch", "firing")) == 1
    assert len(mailbox.mailed("kill_switch", "resolved")) == 1
    # The generic webhook (no throttle by default) heard every trip and every clear.
    wait_until(
        lambda: len(webhook.posted("kill_switch", "resolved")) == 3 or None,
        timeout=20,
        what="every transition on the webhook",
    )
    assert len(webhook.posted("kill_switch", "firing")) == 3


def test_new_rule_kinds_trip_through_real_runs(
    stack: Stack, slack: SlackHook, mailbox: Mailbox
) -> None:
    api = stack.api
    # A slow step holds the only SDK call slot; a quick run's item waits ready behind it.
    slow = start_run(api, "ops/steps", {"slow": 1.5})
    wait_until(  # the second call runs the slow step
        lambda: len(stack.sidefx.select(kind="CALL", run_id=slow)) >= 2 or None,
        timeout=20,
        what="the slow step under way",
    )
    quick = start_run(api, "ops/quick", {"n": 1})
    api.wait_for_run_status(slow, "Completed")
    api.wait_for_run_status(quick, "Completed")
    wait_until(
        lambda: (
            (slack.posted("queue_lag", "firing") and slack.posted("queue_lag", "resolved")) or None
        ),
        timeout=20,
        what="queue lag tripped and cleared",
    )
    lag = slack.posted("queue_lag", "firing")[0]
    assert "above 500 ms" in lag["text"], lag
    wait_until(
        lambda: (
            (
                mailbox.mailed("p95_duration:ops-steps", "firing")
                and slack.posted("p95_duration:ops-steps", "firing")
            )
            or None
        ),
        timeout=20,
        what="p95 of ops-steps above 400 ms",
    )
    fields = _fields(slack.posted("p95_duration:ops-steps", "firing")[0])
    assert int(fields["p95_ms"]) >= 1500 and fields["threshold_ms"] == "400", fields

    for i in range(2):
        api.wait_for_run_status(start_run(api, "ops/fails", {"i": i}), "Failed")
    wait_until(
        lambda: slack.posted("consecutive_failures:ops-fails", "firing") or None,
        timeout=20,
        what="two failures in a row",
    )
    mailed = wait_until(  # each channel delivers on its own: the mail may come later
        lambda: mailbox.mailed("consecutive_failures:ops-fails", "firing") or None,
        timeout=20,
        what="the e-mail of two failures in a row",
    )
    assert "last 2 finished runs all failed" in mailed[0].get_content()
    (stack.sidefx.path.parent / (stack.sidefx.path.name + ".fixed")).touch()
    assert api.wait_for_run_status(start_run(api, "ops/fails", {}), "Completed")
    wait_until(
        lambda: slack.posted("consecutive_failures:ops-fails", "resolved") or None,
        timeout=20,
        what="a success ends the streak",
    )


def _fields(message: dict[str, Any]) -> dict[str, str]:
    """The detail fields of a Slack message (`*key*\\nvalue`)."""
    found = {}
    for field in message["blocks"][2]["fields"]:
        key, _, value = field["text"].partition("\n")
        found[key.strip("*")] = value
    return found
