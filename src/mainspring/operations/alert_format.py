"""Alert messages in words, for people (Slack, e-mail) and as JSON (the generic webhook)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring.domain.durations import rfc3339

TEST_RULE = "test"


@dataclass(frozen=True, slots=True)
class AlertMessage:
    rule: str
    state: str  # "firing", "resolved" or "test"
    at: int  # epoch ms
    detail: Any = None
    suppressed: int = 0  # trips the channel's throttle held back before this "firing"
    environment: str | None = None  # an environment's other than the default one


def payload(message: AlertMessage) -> dict[str, Any]:
    """The generic webhook's JSON (the shape it had before channels, plus `suppressed`)."""
    return {
        "source": "mainspring",
        "rule": message.rule,
        "state": message.state,
        "at": rfc3339(message.at),
        "detail": message.detail,
        "suppressed": message.suppressed,
        **({} if message.environment is None else {"environment": message.environment}),
    }


_ICONS = {"firing": ":red_circle:", "resolved": ":large_green_circle:", "test": ":test_tube:"}
_WORDS = {"firing": "FIRING", "resolved": "RESOLVED", "test": "TEST"}


def title(message: AlertMessage) -> str:
    where = "mainspring" if message.environment is None else f"mainspring {message.environment}"
    return f"[{where}] {_WORDS.get(message.state, message.state)}: {message.rule}"


def summary(message: AlertMessage) -> str:
    """One sentence saying what is wrong (or that it is fine again)."""
    if message.state == "test":
        return "A test alert from Mainspring: this channel is set up and receives alerts."
    if message.state == "resolved":
        return f"{message.rule} is back to normal."
    kind, _, slug = message.rule.partition(":")
    detail = message.detail if isinstance(message.detail, dict) else {}
    words = _describe(kind, slug, detail)
    if message.suppressed:
        words += (
            f" (tripped {message.suppressed} more time(s) since the last message;"
            " held back by the throttle)"
        )
    return words


def _describe(kind: str, slug: str, d: dict[str, Any]) -> str:
    if kind == "kill_switch":
        return f"The kill switch is active: {d.get('reason') or 'no reason given'}."
    if kind == "success_rate":
        return (
            f"{slug}: success rate {d.get('success_rate', 0):.0%} over {d.get('finished')} "
            f"finished runs, below {d.get('threshold', 0):.0%}."
        )
    if kind == "no_success":
        return f"{slug}: no successful run within {d.get('expected_period_s')} s."
    if kind == "dead_letters":
        return f"{d.get('count')} failed runs not replayed (threshold {d.get('threshold')})."
    if kind == "p95_duration":
        return (
            f"{slug}: p95 duration {d.get('p95_ms')} ms over {d.get('samples')} runs, "
            f"above {d.get('threshold_ms')} ms."
        )
    if kind == "queue_lag":
        return (
            f"The oldest ready queue item has waited {d.get('lag_ms')} ms, above "
            f"{d.get('threshold_ms')} ms ({d.get('ready')} ready items)."
        )
    if kind == "consecutive_failures":
        return f"{slug}: the last {d.get('failures')} finished runs all failed."
    return f"{kind} fires."


def text(message: AlertMessage) -> str:
    """The plain-text body of an e-mail."""
    lines = [summary(message), "", f"Rule: {message.rule}", f"State: {message.state}"]
    lines.append(f"At: {rfc3339(message.at)}")
    if isinstance(message.detail, dict):
        lines += ["", *(f"{key}: {value}" for key, value in message.detail.items())]
    return "\n".join(lines) + "\n"


def slack_blocks(message: AlertMessage) -> dict[str, Any]:
    """A Slack incoming-webhook body: Block Kit blocks, and `text` for notifications."""
    icon = _ICONS.get(message.state, "")
    fields = [
        {"type": "mrkdwn", "text": f"*Rule*\n`{message.rule}`"},
        {"type": "mrkdwn", "text": f"*State*\n{_WORDS.get(message.state, message.state)}"},
    ]
    if isinstance(message.detail, dict):
        fields += [
            {"type": "mrkdwn", "text": f"*{key}*\n{value}"}
            for key, value in list(message.detail.items())[:8]  # Slack allows 10 fields
        ]
    return {
        "text": f"{title(message)}: {summary(message)}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title(message)[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} {summary(message)}"}},
            {"type": "section", "fields": fields},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"Mainspring · {rfc3339(message.at)}"}],
            },
        ],
    }
