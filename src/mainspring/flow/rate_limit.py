"""Rate limit and idempotency: at most `limit` runs in ANY window of `period`; excess is skipped.

A sliding log of the admitted start times (at most `limit` of them) is exact, where a token
bucket or GCRA would admit up to 2 x limit - 1 in an unlucky window, and a user who pays per call
or gets banned past a limit must never see that. Idempotency is limit 1 per 24 h.
"""

from __future__ import annotations

from collections.abc import Sequence


def allow(admitted: Sequence[int], now: int, limit: int, period_ms: int) -> tuple[bool, list[int]]:
    """(admitted?, the log to keep). `admitted` holds earlier admission instants."""
    recent = sorted(at for at in admitted if at > now - period_ms)
    if len(recent) >= limit:
        return False, recent
    return True, [*recent, now]
