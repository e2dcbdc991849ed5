"""Parsing `GET /v1/audit`'s filters (pure): bounds on the entry id, and errors naming the
parameter. Also the actor names the HTTP layer gives."""

from __future__ import annotations

import pytest

from mainspring import errors
from mainspring.audit import actors
from mainspring.audit.entries import entry_id
from mainspring.audit.listing import DEFAULT_LIMIT, MAX_LIMIT, parse_filter
from mainspring.domain.ids import ID_CEILING, ulid_floor

AT = 1_800_000_000_000


def test_no_filter_reads_everything_newest_first() -> None:
    flt = parse_filter({})
    assert (flt.action, flt.actor, flt.target) == (None, None, None)
    assert (flt.lower_id, flt.upper_id, flt.limit) == (ulid_floor(0), ID_CEILING, DEFAULT_LIMIT)


def test_the_window_and_the_cursor_bound_the_id() -> None:
    flt = parse_filter({"since": str(AT), "until": "2027-01-15T08:00:00Z", "limit": "5000"})
    assert flt.lower_id == ulid_floor(AT)
    assert flt.upper_id == ulid_floor(AT + 1)  # `until` is inclusive
    assert flt.limit == MAX_LIMIT
    inside = entry_id(AT)
    assert flt.lower_id <= inside < flt.upper_id
    older = entry_id(AT - 10)
    assert parse_filter({"cursor": older, "until": str(AT)}).upper_id == older


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "soon"}, "since"),
        ({"until": "2026-13-01T00:00:00Z"}, "until"),
        ({"since": "2", "until": "1"}, "since"),
        ({"cursor": "x"}, "cursor"),
        ({"limit": "-1"}, "limit"),
        ({"action": "Pause"}, "action"),
        ({"action": "function..pause"}, "action"),
        ({"target": "t" * 301}, "target"),
    ],
)
def test_bad_values_name_their_parameter(params: dict[str, str], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        parse_filter(params)
    assert caught.value.field == field


def test_actor_names() -> None:
    assert actors.token("ops") == "token:ops"
    assert actors.session("token:ops") == "session:ops"
    assert actors.session(actors.SIGNING_KEY) == "session:signing-key"
    assert actors.session("") == "session"
    assert actors.current() == actors.SYSTEM
    with actors.acting_as("dev"):
        assert actors.current() == "dev"
    assert actors.current() == actors.SYSTEM
