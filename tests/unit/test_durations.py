import pytest

from mainspring.domain.durations import deadline_ms, parse_duration_ms, parse_instant_ms, rfc3339


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", 30_000),
        ("1h30m", 5_400_000),
        ("2d", 172_800_000),
        ("1w", 604_800_000),
        ("250ms", 250),
        ("1.5s", 1_500),
        ("1w2d3h4m5s", 604_800_000 + 172_800_000 + 10_800_000 + 240_000 + 5_000),
    ],
)
def test_parse_duration(text: str, expected: int) -> None:
    assert parse_duration_ms(text) == expected


@pytest.mark.parametrize("text", ["", "10", "s", "1x", "1h 2m", "-1s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration_ms(text)


def test_deadline_accepts_python_iso_and_ts_durations() -> None:
    now = parse_instant_ms("2026-11-24T05:25:34.590Z")
    assert deadline_ms("2026-11-24T05:25:36.590Z", now) == now + 2_000
    assert deadline_ms("2s", now) == now + 2_000
    assert deadline_ms("1h30m", now) == now + 5_400_000


def test_rfc3339_round_trip() -> None:
    ms = parse_instant_ms("2026-01-02T03:04:05.678Z")
    assert rfc3339(ms) == "2026-01-02T03:04:05.678Z"
    assert rfc3339(None) is None


def test_instants_round_trip_to_the_millisecond() -> None:
    # `timestamp() * 1000` is a float: it used to lose a millisecond on ~1% of instants.
    for ms in (1_076_129_081_491, 2_171_818_833_285, 2_179_026_618_904, 0, 1_800_000_000_123):
        assert parse_instant_ms(rfc3339(ms) or "") == ms
