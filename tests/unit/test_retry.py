import random

import pytest

from mainspring.domain.durations import parse_instant_ms
from mainspring.execution.retry import backoff_ms, retry_after_ms


@pytest.mark.parametrize(("retry", "low", "high"), [(1, 200, 250), (2, 400, 500), (3, 800, 1000)])
def test_backoff_doubles_with_bounded_jitter(retry: int, low: int, high: int) -> None:
    rng = random.Random(7)
    delays = [backoff_ms(retry, 200, 60_000, rng) for _ in range(200)]
    assert min(delays) >= low
    assert max(delays) <= high
    assert len(set(delays)) > 10  # jitter actually varies


def test_backoff_is_capped() -> None:
    assert backoff_ms(30, 1_000, 5_000, random.Random(1)) <= 5_000 * 1.25


def test_retry_after_forms() -> None:
    now = parse_instant_ms("2026-01-02T03:04:05.000Z")
    assert retry_after_ms("3", now) == 3_000
    assert retry_after_ms("2026-01-02T03:04:07.500Z", now) == 2_500
    assert retry_after_ms("Fri, 02 Jan 2026 03:04:09 GMT", now) == 4_000
    assert retry_after_ms("2026-01-02T03:04:05.100Z", now) == 1_000  # clamped up to 1 s
    assert retry_after_ms("99999", now) == 86_400_000  # clamped down to 24 h
    assert retry_after_ms(None, now) is None
    assert retry_after_ms("soon", now) is None
