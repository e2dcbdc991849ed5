"""Flow-control decisions as pure functions of config, state and `now` (no sleeps)."""

from __future__ import annotations

from typing import Any

import pytest

from mainspring import errors
from mainspring.domain.flow import Batch, ConcurrencyLimit
from mainspring.flow import batch, concurrency, debounce, gcra, priority, rate_limit, singleton
from mainspring.flow.concurrency import Candidate
from mainspring.registry import flow_config

T0 = 1_700_000_000_000


# ---- GCRA: throttle reserves start times -------------------------------------------------


@pytest.mark.parametrize(
    ("tat", "now", "limit", "period", "burst", "start", "new_tat"),
    [
        (None, T0, 10, 1000, 1, T0, T0 + 100),  # fresh key: at once
        (T0 + 100, T0, 10, 1000, 1, T0 + 100, T0 + 200),  # second at the same instant waits
        (T0 + 900, T0, 10, 1000, 1, T0 + 900, T0 + 1000),  # a backlog is spread, never dropped
        (T0 - 5000, T0, 10, 1000, 1, T0, T0 + 100),  # an idle key earns no extra credit
        (None, T0, 1, 60_000, 3, T0, T0 + 60_000),  # burst 3: three at once...
        (T0 + 60_000, T0, 1, 60_000, 3, T0, T0 + 120_000),
        (T0 + 120_000, T0, 1, 60_000, 3, T0, T0 + 180_000),
        (T0 + 180_000, T0, 1, 60_000, 3, T0 + 60_000, T0 + 240_000),  # ...then one a minute
        (None, T0, 3, 1000, 1, T0, T0 + 334),  # interval rounded up: never faster than limit
    ],
)
def test_throttle_reserve(
    tat: int | None, now: int, limit: int, period: int, burst: int, start: int, new_tat: int
) -> None:
    assert gcra.reserve(tat, now, limit, period, burst) == (start, new_tat)


def test_throttle_rate_over_a_long_backlog_is_the_configured_rate() -> None:
    tat, starts = None, []
    for _ in range(601):
        start, tat = gcra.reserve(tat, T0, 10, 1000, 1)
        starts.append(start)
    assert starts[-1] - starts[0] == 60_000  # 600 intervals of 100 ms


# ---- rate limit: a sliding log, admits or skips ---------------------------------------------


def _admitted(instants: list[int], limit: int, period: int) -> list[bool]:
    log: list[int] = []
    out = []
    for now in instants:
        allowed, log = rate_limit.allow(log, now, limit, period)
        assert len(log) <= limit
        out.append(allowed)
    return out


@pytest.mark.parametrize(
    ("instants", "limit", "period", "expected"),
    [
        ([T0] * 4, 3, 60_000, [True, True, True, False]),  # limit at once, the rest skipped
        ([T0, T0, T0 + 59_999], 2, 60_000, [True, True, False]),
        ([T0, T0 + 30_000, T0 + 60_000, T0 + 61_000], 2, 60_000, [True, True, True, False]),
        ([T0, T0 + 1, T0 + 86_399_999, T0 + 86_400_000], 1, 86_400_000, [True, False, False, True]),
    ],
)
def test_rate_limit_allow(
    instants: list[int], limit: int, period: int, expected: list[bool]
) -> None:
    assert _admitted(instants, limit, period) == expected


def test_rate_limit_never_exceeds_limit_in_any_window() -> None:
    instants = [T0 + i * 250 for i in range(1000)]  # 4 per second offered, 5 per 10 s allowed
    admitted = [t for t, ok in zip(instants, _admitted(instants, 5, 10_000), strict=True) if ok]
    for index, start in enumerate(admitted):
        window = [t for t in admitted[index:] if t < start + 10_000]
        assert len(window) <= 5


# ---- concurrency ----------------------------------------------------------------------------


def _c(item_id: str, *slots: tuple[str, int]) -> Candidate:
    return Candidate(item_id, tuple(slots))


@pytest.mark.parametrize(
    ("candidates", "in_use", "capacity", "chosen", "blocked"),
    [
        ([_c("a"), _c("b")], {}, 5, ["a", "b"], False),  # no limits
        ([_c(str(i), ("fn:f", 2)) for i in range(4)], {}, 10, ["0", "1"], True),
        ([_c(str(i), ("fn:f", 2)) for i in range(4)], {"fn:f": 1}, 10, ["0"], True),
        ([_c("a", ("fn:f", 2)), _c("b")], {"fn:f": 2}, 10, ["b"], True),
        ([_c("a", ("fn:f", 5)), _c("b", ("fn:f", 5))], {}, 1, ["a"], False),  # capacity
        # two keys: both must have room, and a grant counts against both
        ([_c("a", ("k1", 1), ("fn:f", 5)), _c("b", ("k1", 1), ("fn:f", 5))], {}, 9, ["a"], True),
        ([_c("a", ("k1", 1), ("fn:f", 1)), _c("b", ("k2", 1), ("fn:f", 1))], {}, 9, ["a"], True),
        ([_c("a", ("k1", 3), ("fn:f", 1))], {"k1": 0, "fn:f": 1}, 9, [], True),
    ],
)
def test_admit(
    candidates: list[Candidate],
    in_use: dict[str, int],
    capacity: int,
    chosen: list[str],
    blocked: bool,
) -> None:
    assert concurrency.admit(candidates, in_use, capacity) == (chosen, blocked)


def test_fair_order_round_robins_over_keys() -> None:
    hot = [_c(f"h{i}", ("hot", 10)) for i in range(4)]
    order = concurrency.fair_order(
        [*hot, _c("c0", ("cold", 10)), _c("free"), _c("c1", ("cold", 10))]
    )
    assert [c.id for c in order] == ["h0", "c0", "free", "h1", "c1", "h2", "h3"]


def test_run_slots_scopes() -> None:
    event: dict[str, Any] = {"name": "x", "data": {"user": "u1"}}
    limits = [
        ConcurrencyLimit(limit=5),
        ConcurrencyLimit(limit=1, key="event.data.user", scope="env"),
    ]
    (fn_key, fn_limit), (env_key, env_limit) = concurrency.run_slots("F", limits, event)
    assert (fn_key, fn_limit, env_limit) == ("fn:F", 5, 1)
    assert env_key.startswith("env:")
    # env scope: the same key value is shared across functions; fn scope is per function
    assert concurrency.run_slots("G", limits[1:], event)[0][0] == env_key
    keyed = [ConcurrencyLimit(limit=1, key="event.data.user")]
    assert concurrency.run_slots("F", keyed, event) != concurrency.run_slots("G", keyed, event)
    other = {"name": "x", "data": {"user": "u2"}}
    assert concurrency.run_slots("F", keyed, event) != concurrency.run_slots("F", keyed, other)


# ---- singleton, priority ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "running", "action"),
    [
        ("skip", False, singleton.Action.START),
        ("skip", True, singleton.Action.SKIP),
        ("cancel", False, singleton.Action.START),
        ("cancel", True, singleton.Action.CANCEL_AND_START),
    ],
)
def test_singleton(mode: str, running: bool, action: singleton.Action) -> None:
    assert singleton.decide(mode, running) is action


@pytest.mark.parametrize(
    ("expression", "data", "offset"),
    [
        (None, {}, 0),
        ("event.data.p", {"p": 30}, 30_000),
        ("event.data.p", {"p": -10}, -10_000),
        ("event.data.p", {"p": 10**9}, 43_200_000),
        ("event.data.p", {}, 0),
        ("event.data.vip ? 120 : 0", {"vip": True}, 120_000),
    ],
)
def test_priority_offset(expression: str | None, data: dict[str, Any], offset: int) -> None:
    assert priority.offset_ms(expression, {"name": "x", "data": data}) == offset


# ---- config: refused at sync with the field named ------------------------------------------


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"concurrency": [{"limit": 1}, {"limit": 2}, {"limit": 3}]}, "concurrency"),
        ({"concurrency": [{"limit": -1}]}, "concurrency.0.limit"),
        ({"concurrency": [{"limit": 1, "scope": "env"}]}, "concurrency.0.key"),
        ({"concurrency": [{"limit": 1, "scope": "galaxy", "key": "x"}]}, "concurrency.0.scope"),
        ({"concurrency": {"limit": 1, "key": "event.data.("}}, "concurrency.key"),
        ({"throttle": {"limit": 1, "period": "soon"}}, "throttle.period"),
        ({"throttle": {"limit": 1, "period": "1s", "burst": 0}}, "throttle.burst"),
        ({"rateLimit": {"limit": 1, "period": "25h"}}, "rateLimit.period"),
        ({"rateLimit": {"limit": 0, "period": "1h"}}, "rateLimit.limit"),
        ({"idempotency": "event.data.("}, "idempotency"),
        ({"singleton": {"mode": "queue"}}, "singleton.mode"),
        ({"debounce": {"period": "100ms"}}, "debounce.period"),
        ({"batchEvents": {"maxSize": 1, "timeout": "1s"}}, "batchEvents.maxSize"),
        ({"batchEvents": {"maxSize": 3, "timeout": "1s", "if": "))"}}, "batchEvents.if"),
        ({"priority": {"run": 5}}, "priority.run"),
    ],
)
def test_invalid_configs_name_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidFunctionConfig) as info:
        flow_config.parse(config, "functions.0")
    assert info.value.field == f"functions.0.{field}"


def test_valid_config_parses() -> None:
    flow = flow_config.parse(
        {
            "concurrency": [{"limit": 5}, {"limit": 1, "key": "event.data.k", "scope": "account"}],
            "throttle": {"limit": 0, "period": "1m"},
            "rateLimit": {"limit": 2, "period": "1h", "key": "event.data.k"},
            "singleton": {"mode": "cancel"},
            "debounce": {"period": "5s", "timeout": "1m"},
            "batchEvents": {"maxSize": 3, "timeout": "2s"},
            "priority": {"run": "event.data.p"},
        }
    )
    assert [c.limit for c in flow.concurrency] == [5, 1]
    assert flow.throttle is not None and flow.throttle.limit == 1  # limit 0 -> 1
    assert flow.debounce is not None and flow.debounce.timeout_ms == 60_000
    assert flow_config.parse({"concurrency": 0}).concurrency == ()  # 0 = unlimited
    assert flow_config.parse({"concurrency": {"fn": [{"limit": 2}], "step": []}}).concurrency


# ---- debounce, batch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_at", "now", "period", "timeout", "fire"),
    [
        (T0, T0, 1000, None, T0 + 1000),
        (T0, T0 + 800, 1000, None, T0 + 1800),  # each event restarts the period
        (T0, T0 + 2500, 1000, 3000, T0 + 3000),  # the timeout caps the delay
        (T0, T0 + 500, 1000, 3000, T0 + 1500),
    ],
)
def test_debounce_fire_at(
    first_at: int, now: int, period: int, timeout: int | None, fire: int
) -> None:
    assert debounce.fire_at(first_at, now, period, timeout) == fire


@pytest.mark.parametrize(
    ("condition", "data", "joins"),
    [
        (None, {}, True),
        ("event.data.solo != true", {}, True),  # cannot evaluate: batched, not alone
        ("event.data.solo != true", {"solo": True}, False),
        ("event.data.solo != true", {"solo": False}, True),
    ],
)
def test_batch_joins(condition: str | None, data: dict[str, Any], joins: bool) -> None:
    rule = Batch(max_size=3, timeout_ms=1000, condition=condition)
    assert batch.joins(rule, {"name": "x", "data": data}) is joins
    assert batch.full(3, rule) and not batch.full(2, rule)
    assert batch.flush_at(T0, rule) == T0 + 1000
