"""The "Send test alert" button on the Operations page (issue 18, part 4): a Slack stand-in and
an SMTP server on loopback receive it. Its own server, configured with both channels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from integration.harness import Stack, running_stack, wait_until
from integration.receivers import Mailbox, SlackHook

from .conftest import DASHBOARD_SLUGS, shot


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
def stack(
    tmp_path_factory: pytest.TempPathFactory, slack: SlackHook, mailbox: Mailbox
) -> Iterator[Stack]:
    env = {
        "MAINSPRING_ALERT_SLACK_WEBHOOK_URL": slack.url,
        "MAINSPRING_ALERT_SMTP_HOST": "127.0.0.1",
        "MAINSPRING_ALERT_SMTP_PORT": str(mailbox.port),
        "MAINSPRING_ALERT_SMTP_STARTTLS": "false",
        "MAINSPRING_ALERT_EMAIL_FROM": "mainspring@example.test",
        "MAINSPRING_ALERT_EMAIL_TO": "oncall@example.test",
    }
    workdir = tmp_path_factory.mktemp("alerts-ui")
    with running_stack(workdir, "core_app", DASHBOARD_SLUGS, server_env=env) as found:
        yield found


def test_send_test_alert_button(
    stack: Stack, page: Page, slack: SlackHook, mailbox: Mailbox
) -> None:
    page.goto(f"{stack.server.url}/operations")
    channels = page.locator("#alert-channels")
    expect(channels.locator('[data-channel="slack"]')).to_be_visible()
    expect(channels).to_contain_text("10 m")  # the people channels' default throttle
    channels.locator("#send-test-alert").click()
    expect(page.locator("#alert-test-result .notice.ok")).to_contain_text(
        "Test alert delivered to slack, email"
    )
    shot(page, "operations-test-alert")
    assert len(slack.posted("test", "test")) == 1 and len(mailbox.mailed("test", "test")) == 1

    page.locator('#alert-channels select[name="channel"]').select_option("email")
    page.locator("#send-test-alert").click()
    expect(page.locator("#alert-test-result .notice.ok")).to_contain_text("delivered to email")
    wait_until(lambda: len(mailbox.mailed("test", "test")) == 2 or None, timeout=5, what="mail")
    assert len(slack.posted("test", "test")) == 1
