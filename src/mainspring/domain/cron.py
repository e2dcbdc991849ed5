"""Cron schedules in the robfig/cron dialect the SDKs document; next fire time after an instant.

Five fields with names, ranges, lists and steps; `@yearly` … `@hourly`, `@every <duration>`;
an optional `TZ=<zone> ` or `CRON_TZ=<zone> ` prefix (IANA zones, DST handled by cronsim).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from mainspring.domain.durations import parse_duration_ms

DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MIN_EVERY_MS = 1_000
MAX_JITTER_MS = 5 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Schedule:
    text: str
    zone: ZoneInfo
    fields: str | None = None
    every_ms: int | None = None


def parse(text: str) -> Schedule:
    """Raises ValueError with a reason a user can act on."""
    rest = text.strip()
    zone = ZoneInfo("UTC")
    for prefix in ("TZ=", "CRON_TZ="):
        if rest.startswith(prefix):
            name, _, rest = rest[len(prefix) :].partition(" ")
            try:
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {name!r}") from None
            rest = rest.strip()
    if rest.startswith("@every"):
        every = parse_duration_ms(rest.removeprefix("@every").strip())
        if every < MIN_EVERY_MS:
            raise ValueError("@every needs at least 1s")
        return Schedule(text, zone, every_ms=every)
    fields = DESCRIPTORS.get(rest, rest)
    if fields.startswith("@"):
        raise ValueError(f"unknown descriptor {rest!r}")
    if len(fields.split()) != 5:
        raise ValueError(
            "a cron expression has 5 fields: minute hour day-of-month month day-of-week"
        )
    try:
        CronSim(fields, datetime.now(UTC).astimezone(zone))
    except CronSimError as exc:
        raise ValueError(f"invalid cron expression {rest!r}: {exc}") from None
    return Schedule(text, zone, fields=fields)


def next_after(schedule: Schedule, after_ms: int) -> int:
    """The first slot strictly after `after_ms` (epoch milliseconds)."""
    if schedule.every_ms is not None:
        return (after_ms // schedule.every_ms + 1) * schedule.every_ms
    assert schedule.fields is not None
    start = datetime.fromtimestamp(after_ms / 1000, tz=UTC).astimezone(schedule.zone)
    start = start.replace(microsecond=0)
    return int(next(CronSim(schedule.fields, start)).timestamp() * 1000)


def jitter_for(slot_ms: int, key: str, jitter_ms: int) -> int:
    """Deterministic per (schedule, slot): every process computes the same delay."""
    if jitter_ms <= 0:
        return 0
    digest = hashlib.sha256(f"{key}:{slot_ms}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (jitter_ms + 1)
