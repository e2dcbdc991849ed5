"""Live overrides over the synced flow config (pure): parsing, the stored shape, what wins."""

from __future__ import annotations

import pytest

from mainspring import errors
from mainspring.domain.flow import UNLIMITED, ConcurrencyLimit, FlowConfig, RateLimit, Throttle
from mainspring.flow import overrides
from mainspring.registry import flow_config

SYNCED = flow_config.parse(
    {
        "concurrency": [
            {"limit": 5, "key": "event.data.k"},
            {"limit": 9, "scope": "env", "key": "x"},
        ],
        "throttle": {"limit": 10, "period": "1s", "key": "event.data.t"},
        "priority": {"run": "event.data.p"},
    }
)


def test_body_round_trips_through_the_stored_shape() -> None:
    body = {
        "concurrency": 3,
        "throttle": {"limit": 2, "period": "1m", "burst": 4},
        "rateLimit": {"limit": 100, "period": "1h"},
        "priority": {"run": "60"},
    }
    parsed = flow_config.parse_overrides(body)
    assert parsed.throttle == Throttle(limit=2, period_ms=60_000, burst=4)
    shape = flow_config.dump_overrides(parsed)
    assert shape["throttle"] == {"limit": 2, "period": "60s", "burst": 4}
    assert flow_config.parse_overrides(shape) == parsed
    assert flow_config.parse_overrides({}).empty


def test_throttle_and_rate_limit_keep_the_synced_key_priority_replaced() -> None:
    new = flow_config.parse_overrides(
        {"throttle": {"limit": 1, "period": "2s"}, "priority": {"run": "0"}}
    )
    flow = overrides.effective(SYNCED, new)
    assert flow.throttle == Throttle(limit=1, period_ms=2000, burst=1, key="event.data.t")
    assert flow.priority == "0"
    assert flow.concurrency == SYNCED.concurrency, "the store applies a concurrency override"
    rate = overrides.effective(
        FlowConfig(), flow_config.parse_overrides({"rateLimit": {"limit": 1, "period": "1m"}})
    )
    assert rate.rate_limit == RateLimit(limit=1, period_ms=60_000, key=None)
    assert rate.gates_start


def test_concurrency_override_gives_a_function_without_a_limit_its_own_key() -> None:
    new = flow_config.parse_overrides({"concurrency": 2})
    assert overrides.effective(FlowConfig(), new).concurrency == (ConcurrencyLimit(UNLIMITED),)
    env_only = FlowConfig(concurrency=(ConcurrencyLimit(3, "x", "env"),))
    assert overrides.effective(env_only, new).concurrency[0] == ConcurrencyLimit(UNLIMITED)
    assert overrides.own_limits(SYNCED.concurrency) == (None, 5)


def test_an_override_never_cuts_a_shared_limit() -> None:
    """A queue item carries two concurrency keys: a function with two shared limits and none of
    its own has no room for an override (the API refuses it); they are kept as synced."""
    shared = (ConcurrencyLimit(3, "a", "env"), ConcurrencyLimit(4, "b", "account"))
    assert not overrides.has_room(shared)
    assert overrides.has_room(shared[:1]) and overrides.has_room((ConcurrencyLimit(2), *shared))
    new = flow_config.parse_overrides({"concurrency": 1})
    assert overrides.effective(FlowConfig(concurrency=shared), new).concurrency == shared


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"throttle": {"limit": 1, "period": "10ms"}}, "throttle.period"),
        ({"rateLimit": {"limit": 1, "period": "2d"}}, "rateLimit.period"),
        ({"rateLimit": {"limit": 1, "period": "1h", "key": "k"}}, "rateLimit.key"),
        ({"priority": "60"}, "priority"),
        ({"batchEvents": {}}, "batchEvents"),
        ("x", "body"),
    ],
)
def test_bad_bodies_name_the_field(body: object, field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        flow_config.parse_overrides(body)
    assert caught.value.field == field
