"""Alert messages as people read them: Slack Block Kit and the e-mail body."""

from __future__ import annotations

from mainspring.operations.alert_channels import Email
from mainspring.operations.alert_format import AlertMessage, payload, slack_blocks, text

AT = 1_700_000_000_000


def test_slack_blocks_shape() -> None:
    message = AlertMessage(
        "p95_duration:app-f", "firing", AT, {"p95_ms": 2000, "threshold_ms": 1000, "samples": 9}
    )
    body = slack_blocks(message)
    assert body["text"].startswith("[mainspring] FIRING: p95_duration:app-f")
    header, summary, fields, context = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "[mainspring] FIRING: p95_duration:app-f"},
    }
    assert "p95 duration 2000 ms over 9 runs, above 1000 ms" in summary["text"]["text"]
    assert {"type": "mrkdwn", "text": "*p95_ms*\n2000"} in fields["fields"]
    assert context["type"] == "context"


def test_held_back_trips_are_told() -> None:
    message = AlertMessage("kill_switch", "firing", AT, {"reason": "drill"}, suppressed=3)
    assert "tripped 3 more time(s)" in slack_blocks(message)["text"]
    assert payload(message)["suppressed"] == 3


def test_email() -> None:
    channel = Email("mail", 25, "ms@x.test", ("a@x.test", "b@x.test"), throttle_ms=0)
    mail = channel.compose(AlertMessage("queue_lag", "resolved", AT))
    assert mail["Subject"] == "[mainspring] RESOLVED: queue_lag"
    assert mail["To"] == "a@x.test, b@x.test"
    assert "queue_lag is back to normal." in mail.get_content()
    body = text(AlertMessage("consecutive_failures:a-f", "firing", AT, {"failures": 3}))
    assert body.startswith("a-f: the last 3 finished runs all failed.")


def test_an_environment_other_than_the_default_is_named() -> None:
    message = AlertMessage("kill_switch", "firing", AT, {"reason": "drill"}, environment="staging")
    assert slack_blocks(message)["text"].startswith("[mainspring staging] FIRING: kill_switch")
    assert payload(message)["environment"] == "staging"
    assert "environment" not in payload(AlertMessage("kill_switch", "firing", AT))
