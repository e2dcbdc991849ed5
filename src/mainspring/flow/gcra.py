"""GCRA (generic cell rate algorithm) on one number per key: the theoretical arrival time (TAT).

`throttle` reserves a start time for every run (excess runs wait, none is dropped). Pure: state
in, state out. (rateLimit is exact instead, see `rate_limit.py`: GCRA would let up to
2 x limit - 1 runs through in some windows of one period.)
"""

from __future__ import annotations

import math


def interval_ms(limit: int, period_ms: int) -> int:
    """Spacing between starts; rounded up so the rate is never exceeded."""
    return max(1, math.ceil(period_ms / max(1, limit)))


def reserve(tat: int | None, now: int, limit: int, period_ms: int, burst: int) -> tuple[int, int]:
    """Throttle: (start time of this run, new TAT). An idle key starts `burst` runs at once, then
    one every period/limit; a backlog is spread at that rate and none is dropped."""
    step = interval_ms(limit, period_ms)
    tolerance = (max(1, burst) - 1) * step
    current = now if tat is None else tat
    start = max(now, current - tolerance)
    return start, max(current, start) + step
