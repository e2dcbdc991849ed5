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
