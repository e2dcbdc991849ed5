"""Inngest time strings (`"30s"`, `"1h30m"`, `"2d"`) and RFC 3339 instants."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNIT_MS = {
    "ns": 1e-6,
    "us": 1e-3,
    "µs": 1e-3,
    "ms": 1.0,
    "s": 1_000.0,
    "m": 60_000.0,
    "h": 3_600_000.0,
    "d": 86_400_000.0,
    "w": 604_800_000.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)")


def parse_duration_ms(text: str) -> int:
    """Parse a Go-style duration with `d` and `w` added. Raises ValueError when malformed."""
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    position, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise ValueError(f"invalid duration {text!r}")
    return int(total)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_instant_ms(text: str) -> int:
    """Parse an RFC 3339 / ISO 8601 instant into epoch milliseconds (UTC if no zone)."""
    value = text.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Exact: `timestamp() * 1000` is a float and loses a millisecond on ~1% of instants.
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def deadline_ms(text: str, now_ms: int) -> int:
    """A time string relative to `now_ms`, or an absolute instant (≥ 10 chars that parse)."""
    if len(text) >= 10:
        try:
            return parse_instant_ms(text)
        except ValueError:
            pass
    return now_ms + parse_duration_ms(text)


def rfc3339(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
