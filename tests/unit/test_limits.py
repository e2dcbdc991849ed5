"""Hostile-input limits: JSON depth, register payload size, CEL cost, crons that never fire."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mainspring import errors, expressions, limits
from mainspring.domain import cron


def nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


@pytest.mark.parametrize(
    ("depth", "ok"), [(1, True), (63, True), (64, True), (65, False), (900, False)]
)
def test_json_depth(depth: int, ok: bool) -> None:
    assert limits.json_depth_ok(nested(depth)) is ok


def test_depth_walk_is_iterative() -> None:
    assert limits.json_depth_ok(nested(100_000)) is False  # no RecursionError


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("event.data.ok == true", None),
        ("event.data.items.all(x, x > 1) && event.data.b.exists(y, y == 2)", None),
        ("event.data.a.all(x, event.data.b.exists(y, y == x))", "nested"),
        ("event.data.a.map(x, event.data.a.map(y, y))", "nested"),
        ("event.data.s.matches('^[a-z]+$')", None),
        ("event.data.s.matches('^(a+)+$')", "nested quantifier"),
        ("event.data.s.matches('(x*)*y')", "nested quantifier"),
        ("event.data.s.matches('(a|aa)+b')", "nested quantifier"),
        ("'.all(' == event.data.s", None),
    ],
)
def test_expression_cost(source: str, problem: str | None) -> None:
    found = limits.expression_cost_problem(source)
    assert (found is None) if problem is None else (found is not None and problem in found)
    if problem is not None:
        with pytest.raises(errors.InvalidInput, match="too costly"):
            expressions.compile_expression(source)


def test_an_allowed_expression_over_big_data_stays_fast() -> None:
    data = {"items": list(range(2_000))}
    started = time.monotonic()
    assert expressions.evaluate_bool(
        "event.data.items.exists(x, x == 1999)", {"event": {"data": data}}
    )
    assert time.monotonic() - started < 20  # linear: generous slack for a loaded machine


@pytest.mark.parametrize("expr", ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *"])
def test_crons_that_never_fire_are_refused(expr: str) -> None:
    with pytest.raises(ValueError, match="invalid cron"):
        cron.parse(expr)


def test_a_rare_cron_still_has_a_next_fire_time() -> None:
    schedule = cron.parse("0 0 29 2 *")
    assert cron.next_after(schedule, 1_800_000_000_000) > 1_800_000_000_000


def _payload(**changes: Any) -> dict[str, Any]:
    fn = {"id": "a-f", "name": "f", "triggers": [{"event": "x"}], "steps": {}}
    body: dict[str, Any] = {"appName": "a", "url": "http://x", "functions": [fn]}
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_payload(appName="a" * 257), "appName"),
        (_payload(functions=[{"id": "f"}] * 1001), "functions"),
        (_payload(functions=[{"id": "x" * 257}]), "functions.0.id"),
        (
            _payload(functions=[{"id": "f", "triggers": [{"event": "e"}] * 11}]),
            "functions.0.triggers",
        ),
        (_payload(extra=nested(70)), "body"),
    ],
)
def test_register_payload_limits(body: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        limits.check_register(body)
    assert caught.value.field == field
    assert 400 <= caught.value.status < 500


def test_a_normal_register_payload_passes() -> None:
    limits.check_register(_payload())
