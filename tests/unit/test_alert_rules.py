"""Table-driven tests of alert rules, percentiles and operations settings (explicit instants)."""

from __future__ import annotations

import pytest

from mainspring import errors
from mainspring.operations import settings
from mainspring.operations.alerts import Snapshot, evaluate, transitions
from mainspring.operations.insights import percentile, success_rate
from mainspring.operations.settings import AlertConfig

NOW = 1_700_000_000_000
HOUR = 3_600_000
CONFIG = AlertConfig(min_success_rate=0.7, min_runs=5, dead_letters=10, expected_ms={"a-f": HOUR})


def snap(**fields: object) -> Snapshot:
    base: dict[str, object] = {
        "now": NOW,
        "kill_switch": None,
        "counts": {},
        "last_success": {"a-f": NOW - 1},
        "dead_letters": 0,
        "watching_since": NOW - 10,
    }
    base.update(fields)
    return Snapshot(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("snapshot", "firing"),
    [
        (snap(), set()),
        (snap(kill_switch={"reason": "x", "requested_by": None}), {"kill_switch"}),
        (snap(counts={"a-g": {"Completed": 6, "Failed": 4}}), {"success_rate:a-g"}),
        (snap(counts={"a-g": {"Completed": 7, "Failed": 3}}), set()),  # exactly 70 %: ok
        (snap(counts={"a-g": {"Failed": 4}}), set()),  # fewer than min_runs finished
        (snap(counts={"a-g": {"Failed": 2, "Cancelled": 9}}), set()),  # cancelled don't count
        (snap(last_success={"a-f": NOW - HOUR - 1}), {"no_success:a-f"}),
        (snap(last_success={"a-f": NOW - HOUR}), set()),
        (snap(last_success={}, watching_since=NOW - 2 * HOUR), {"no_success:a-f"}),
        (snap(last_success={}, watching_since=NOW - 60_000), set()),
        (snap(dead_letters=10), {"dead_letters"}),
        (snap(dead_letters=9), set()),
    ],
)
def test_evaluate(snapshot: Snapshot, firing: set[str]) -> None:
    assert set(evaluate(snapshot, CONFIG)) == firing


@pytest.mark.parametrize(
    ("stored", "firing", "tripped", "cleared"),
    [
        ({}, {"a": {}}, ["a"], []),
        ({"a": True}, {"a": {}}, [], []),  # still firing: nothing posted again
        ({"a": True}, {}, [], ["a"]),
        ({"a": False}, {}, [], []),
        ({"a": False}, {"a": {}}, ["a"], []),
    ],
)
def test_transitions(
    stored: dict[str, bool],
    firing: dict[str, dict[str, object]],
    tripped: list[str],
    cleared: list[str],
) -> None:
    assert transitions(stored, firing) == (tripped, cleared)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([5], 99, 5), ([1, 2, 3, 4], 50, 2), (list(range(1, 101)), 95, 95)],
)
def test_percentile(values: list[int], q: float, expected: int | None) -> None:
    assert percentile(values, q) == expected


def test_success_rate() -> None:
    assert success_rate({}) is None
    assert success_rate({"Completed": 3, "Failed": 1, "Running": 5}) == 0.75


def test_settings_from_env_and_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "mainspring.toml"
    path.write_text(
        '[alerts]\nwindow = "2h"\n[alerts.expected]\n"a-f" = "26h"\n[retention]\nmax_age = "1d"\n'
    )
    loaded = settings.load({"MAINSPRING_CONFIG": str(path), "MAINSPRING_ALERT_DEAD_LETTERS": "3"})
    assert loaded.alerts.window_ms == 2 * HOUR and loaded.alerts.dead_letters == 3
    assert loaded.alerts.expected_ms == {"a-f": 26 * HOUR}
    assert loaded.retention.max_age_ms == 24 * HOUR
    assert settings.load({}).retention.max_age_ms == 7 * 24 * HOUR
    assert settings.load({"MAINSPRING_RETENTION": "off"}).retention.max_age_ms == 0
    assert settings.load({"MAINSPRING_ALERT_EXPECTED": "x=1h, y=30m"}).alerts.expected_ms == {
        "x": HOUR,
        "y": HOUR // 2,
    }
    for env in ({"MAINSPRING_RETENTION": "soon"}, {"MAINSPRING_ALERT_MIN_RUNS": "many"}):
        with pytest.raises(errors.ConfigError):
            settings.load(env)


NEW_KINDS = AlertConfig(
    min_runs=3,
    max_p95_ms={"a-slow": 1000, "*": 5000},
    max_queue_lag_ms=2000,
    consecutive_failures=3,
)


@pytest.mark.parametrize(
    ("snapshot", "firing"),
    [
        (snap(p95_ms={"a-slow": (1001, 3)}), {"p95_duration:a-slow"}),
        (snap(p95_ms={"a-slow": (1000, 3)}), set()),  # at the threshold: ok
        (snap(p95_ms={"a-slow": (9000, 2)}), set()),  # fewer than min_runs samples
        (snap(p95_ms={"a-other": (5001, 3)}), {"p95_duration:a-other"}),  # "*" applies
        (snap(p95_ms={"a-other": (4000, 3)}), set()),
        (snap(queue_lag_ms=2001, queue_ready=7), {"queue_lag"}),
        (snap(queue_lag_ms=2000), set()),
        (snap(failure_streaks={"a-g": 3}), {"consecutive_failures:a-g"}),
        (snap(failure_streaks={"a-g": 2}), set()),
    ],
)
def test_evaluate_new_kinds(snapshot: Snapshot, firing: set[str]) -> None:
    assert set(evaluate(snapshot, NEW_KINDS)) == firing


def test_new_kinds_are_off_by_default() -> None:
    loud = snap(p95_ms={"a-g": (10**9, 100)}, queue_lag_ms=10**9, failure_streaks={"a-g": 99})
    assert set(evaluate(loud, AlertConfig())) == set()


def test_new_kinds_detail() -> None:
    found = evaluate(
        snap(queue_lag_ms=2500, queue_ready=4, p95_ms={"a-slow": (1500, 9)}), NEW_KINDS
    )
    assert found["queue_lag"] == {"lag_ms": 2500, "threshold_ms": 2000, "ready": 4}
    assert found["p95_duration:a-slow"] == {
        "function_id": "a-slow",
        "p95_ms": 1500,
        "samples": 9,
        "threshold_ms": 1000,
    }


def test_channel_settings_from_env_and_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "mainspring.toml"
    path.write_text(
        "[alerts]\n"
        'slack_webhook_url = "https://hooks.slack.com/services/T/B/x"\n'
        'smtp_host = "smtp.example.com"\n'
        'email_from = "ms@example.com"\n'
        'email_to = ["a@example.com", "b@example.com"]\n'
        'max_queue_lag = "2m"\n'
        "consecutive_failures = 4\n"
        '[alerts.max_p95]\n"a-f" = "30s"\n'
    )
    loaded = settings.load(
        {"MAINSPRING_CONFIG": str(path), "MAINSPRING_ALERT_SLACK_THROTTLE": "5m"}
    ).alerts
    assert loaded.slack_throttle_ms == 5 * 60_000 and loaded.email_throttle_ms == 10 * 60_000
    assert loaded.webhook_throttle_ms == 0  # the generic webhook posts every transition
    assert loaded.email_to == ("a@example.com", "b@example.com") and loaded.smtp_port == 587
    assert loaded.max_queue_lag_ms == 120_000 and loaded.consecutive_failures == 4
    assert loaded.max_p95_ms == {"a-f": 30_000}
    env = settings.load(
        {
            "MAINSPRING_ALERT_SMTP_HOST": "127.0.0.1",
            "MAINSPRING_ALERT_SMTP_STARTTLS": "false",
            "MAINSPRING_ALERT_EMAIL_FROM": "ms@x.test",
            "MAINSPRING_ALERT_EMAIL_TO": "a@x.test, b@x.test",
            "MAINSPRING_ALERT_MAX_P95": "*=1s",
        }
    ).alerts
    assert env.email_to == ("a@x.test", "b@x.test") and env.smtp_starttls is False
    assert env.max_p95_ms == {"*": 1000}


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"MAINSPRING_ALERT_SLACK_WEBHOOK_URL": "hooks.slack.com/x"}, "alerts.slack_webhook_url"),
        ({"MAINSPRING_ALERT_WEBHOOK_URL": "ftp://x"}, "alerts.webhook_url"),
        ({"MAINSPRING_ALERT_SMTP_HOST": "mail", "MAINSPRING_ALERT_EMAIL_TO": "a@x"}, "email_from"),
        ({"MAINSPRING_ALERT_SMTP_HOST": "mail", "MAINSPRING_ALERT_EMAIL_FROM": "a@x"}, "email_to"),
        ({"MAINSPRING_ALERT_EMAIL_TO": "a@x"}, "alerts.email_to"),
        (
            {
                "MAINSPRING_ALERT_SMTP_HOST": "mail",
                "MAINSPRING_ALERT_EMAIL_FROM": "a@x",
                "MAINSPRING_ALERT_EMAIL_TO": "nobody",
            },
            "alerts.email_to",
        ),
        ({"MAINSPRING_ALERT_SMTP_PORT": "70000"}, "alerts.smtp_port"),
        ({"MAINSPRING_ALERT_SLACK_THROTTLE": "often"}, "alerts.slack_throttle"),
        ({"MAINSPRING_ALERT_MAX_P95": "a-f=0"}, "alerts.max_p95"),
        ({"MAINSPRING_ALERT_MAX_QUEUE_LAG": "-1s"}, "alerts.max_queue_lag"),
        ({"MAINSPRING_ALERT_CONSECUTIVE_FAILURES": "-2"}, "alerts.consecutive_failures"),
    ],
)
def test_bad_channel_settings_name_the_field(env: dict[str, str], field: str) -> None:
    with pytest.raises(errors.ConfigError) as caught:
        settings.load(env)
    assert field in str(caught.value), caught.value
