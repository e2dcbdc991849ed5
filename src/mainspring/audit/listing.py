"""Reading the audit log: filters (action, actor, target, since / until), a cursor and a limit,
parsed with errors naming the parameter, and pages newest first (`GET /v1/audit`, the Audit
page). The cursor is the last entry's id, as for runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ulid import ULID

from mainspring import codec, errors
from mainspring.audit import entries
from mainspring.clock import Clock
from mainspring.domain.durations import parse_instant_ms, rfc3339
from mainspring.domain.ids import ID_CEILING, ulid_floor
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import audit as audit_repo

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_FILTER = 300
# `kill_switch.on`, `app.synced`: lower-case words joined by dots.
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    target: str | None = None
    lower_id: str = ulid_floor(0)
    upper_id: str = ID_CEILING
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[dict[str, Any]]
    cursor: str | None  # pass as `cursor` for the next (older) page; None at the end


def _text(params: Mapping[str, str], name: str) -> str | None:
    text = params.get(name)
    if text is None or text.strip() == "":
        return None
    if len(text) > MAX_FILTER or "\x00" in text:
        raise errors.InvalidInput(f"{name} must be at most {MAX_FILTER} characters", field=name)
    return text.strip()


def _action(params: Mapping[str, str]) -> str | None:
    text = _text(params, "action")
    if text is not None and not _ACTION.match(text):
        message = "action must be a dotted name such as kill_switch.on"
        raise errors.InvalidInput(message, field="action")
    return text


def _instant(params: Mapping[str, str], name: str) -> int | None:
    text = _text(params, name)
    if text is None:
        return None
    if text.isdigit():
        return int(text)  # epoch milliseconds
    try:
        return parse_instant_ms(text)
    except ValueError:
        raise errors.InvalidInput(f"{name} must be an RFC 3339 time", field=name) from None


def _limit(params: Mapping[str, str]) -> int:
    text = params.get("limit")
    if text is None or text == "":
        return DEFAULT_LIMIT
    if not text.isdigit() or int(text) < 1:
        raise errors.InvalidInput("limit must be a positive integer", field="limit")
    return min(int(text), MAX_LIMIT)


def _cursor(params: Mapping[str, str]) -> str | None:
    text = _text(params, "cursor")
    if text is None:
        return None
    try:
        return str(ULID.from_str(text))
    except ValueError:
        raise errors.InvalidInput("cursor must be an audit entry id", field="cursor") from None


def parse_filter(params: Mapping[str, str]) -> AuditFilter:
    """Read `action`, `actor`, `target`, `since`, `until`, `cursor` and `limit`; a bad value
    raises InvalidInput naming its parameter."""
    since, until = _instant(params, "since"), _instant(params, "until")
    if since is not None and until is not None and since > until:
        raise errors.InvalidInput("since is later than until", field="since")
    upper = ID_CEILING if until is None else ulid_floor(until + 1)
    cursor = _cursor(params)
    if cursor is not None and cursor < upper:
        upper = cursor
    return AuditFilter(
        action=_action(params),
        actor=_text(params, "actor"),
        target=_text(params, "target"),
        lower_id=ulid_floor(since or 0),
        upper_id=upper,
        limit=_limit(params),
    )


def entry_view(row: Row) -> dict[str, Any]:
    """One entry as the API answers it."""
    target = None
    if row["target_id"] is not None:
        target = {"kind": row["target_kind"], "id": row["target_id"]}
    return {
        "id": row["id"],
        "at": rfc3339(row["at"]),
        "actor": row["actor"],
        "action": row["action"],
        "target": target,
        "reason": row["reason"],
        "details": codec.loads(row["details"]),
    }


class AuditLog:
    """The audit log for HTTP handlers: pages to read, and `record` for the few actions that
    have no unit of work of their own to record in (services use `audit.record`)."""

    def __init__(self, connector: Connector, clock: Clock) -> None:
        self._connector = connector
        self._clock = clock

    async def record(
        self,
        action: str,
        *,
        target_kind: str | None = None,
        target_id: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> str:
        """Record `action` now, as the current actor; returns the entry's id."""
        return await entries.record_now(
            self._connector,
            action,
            at=self._clock(),
            target_kind=target_kind,
            target_id=target_id,
            reason=reason,
            details=details,
        )

    async def page(self, flt: AuditFilter) -> AuditPage:
        """Entries matching `flt`, newest first, and the cursor of the next page."""

        def unit(tx: Tx) -> list[Row]:
            return audit_repo.page(
                tx,
                action=flt.action,
                actor=flt.actor,
                target=flt.target,
                lower=flt.lower_id,
                upper=flt.upper_id,
                limit=flt.limit + 1,  # one more: is there a next page?
            )

        rows = await self._connector.read(unit)
        more = len(rows) > flt.limit
        rows = rows[: flt.limit]
        cursor = str(rows[-1]["id"]) if more and rows else None
        return AuditPage([entry_view(row) for row in rows], cursor)
