"""Backoff between attempts, and the SDK's Retry-After."""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime

from mainspring.domain.durations import parse_instant_ms

JITTER_FRACTION = 0.25
RETRY_AFTER_MIN_MS = 1_000
RETRY_AFTER_MAX_MS = 24 * 3600 * 1000


def backoff_ms(retry_number: int, base_ms: int, max_ms: int, rng: random.Random) -> int:
    """Delay before retry `retry_number` (1-based): exponential, capped, plus up to 25 % jitter."""
    delay = min(max_ms, base_ms * 2 ** max(0, retry_number - 1))
    return int(delay * (1 + rng.random() * JITTER_FRACTION))


def retry_after_ms(header: str | None, now: int) -> int | None:
    """Delay asked for by `Retry-After` (seconds, or a date), clamped to [1 s, 24 h]."""
    if not header:
        return None
    text = header.strip()
    delay: int | None = None
    if text.isdigit() and len(text) <= 7:
        delay = int(text) * 1000
    else:
        try:
            delay = parse_instant_ms(text) - now
        except ValueError:
            try:
                delay = int(parsedate_to_datetime(text).timestamp() * 1000) - now
            except (TypeError, ValueError):
                return None
    return max(RETRY_AFTER_MIN_MS, min(RETRY_AFTER_MAX_MS, delay))
