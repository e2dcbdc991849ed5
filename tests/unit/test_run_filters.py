"""Table-driven tests of run-list filter parsing (pure: explicit instants, no I/O)."""

from __future__ import annotations

import pytest

from mainspring import errors
from mainspring.domain.ids import ID_CEILING, ulid_floor
from mainspring.reads.filters import parse_run_filter

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


def test_ulid_floor_orders_like_time() -> None:
    assert ulid_floor(T0) < ulid_floor(T0 + 1) < ID_CEILING
    assert ulid_floor(0) == "0" * 26


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"statuses": (), "limit": 100, "upper_id": ID_CEILING, "lower_id": "0" * 26}),
        ({"status": "failed,Completed"}, {"statuses": ("Failed", "Completed")}),
        ({"function_id": "app-fn", "app_id": "app"}, {"function_slug": "app-fn", "app_id": "app"}),
        ({"limit": "5"}, {"limit": 5}),
        ({"limit": "5000"}, {"limit": 1000}),
        ({"started_after": "2023-11-14T22:13:20Z"}, {"lower_id": ulid_floor(T0)}),
        ({"started_before": str(T0)}, {"upper_id": ulid_floor(T0 + 1)}),
        ({"query": "event.data.n > 3"}, {"query": "event.data.n > 3"}),
        ({"query": "  "}, {"query": None}),
    ],
)
def test_parse(params: dict[str, str], expected: dict[str, object]) -> None:
    parsed = parse_run_filter(params)
    for key, value in expected.items():
        assert getattr(parsed, key) == value, key


def test_cursor_tightens_the_upper_bound() -> None:
    cursor = ulid_floor(T0)
    assert parse_run_filter({"cursor": cursor}).upper_id == cursor
    later = {"cursor": ulid_floor(T0 + 10), "started_before": str(T0)}
    assert parse_run_filter(later).upper_id == ulid_floor(T0 + 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "Sleeping"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"started_after": "yesterday"}, "started_after"),
        ({"until": "nope"}, "until"),
        ({"started_after": str(T0 + 1), "started_before": str(T0)}, "started_after"),
        ({"cursor": "not-a-ulid"}, "cursor"),
        ({"query": "event.data.n >"}, "query"),
    ],
)
def test_bad_filters_name_the_parameter(params: dict[str, str], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        parse_run_filter(params)
    assert caught.value.field == field
