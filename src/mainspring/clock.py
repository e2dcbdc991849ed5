"""Time as epoch milliseconds. Services take a `Clock` so tests of pure code pass instants."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def now_ms() -> int:
    return time.time_ns() // 1_000_000
