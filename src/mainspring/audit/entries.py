"""Recording an operator action: `record(tx, …)` inside the action's own transaction, or
`record_now(connector, …)` where the action has none of its own.

An entry says who (`actor`), when (`at`, epoch ms), what (`action`, a target, `details`) and
why (`reason`, where the action takes one). Actions are dotted names, `<thing>.<verb>`; the
ones recorded today are listed in `ACTIONS` (the dashboard offers them as filters).
"""

from __future__ import annotations

import os
from typing import Any

from ulid import ULID

from mainspring import codec
from mainspring.audit import actors
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import audit as audit_repo

ACTIONS = (
    "kill_switch.on",
    "kill_switch.off",
    "function.pause",
    "function.resume",
    "function.override",
    "function.override_clear",
    "function.invoke",
    "run.cancel",
    "runs.cancel_bulk",
    "cancellation.delete",
    "run.rerun",
    "runs.replay",
    "event.send",
    "signal.send",
    "event_key.create",
    "event_key.revoke",
    "api_token.create",
    "api_token.revoke",
    "app.sync",
    "app.synced",
    "app.delete",
    "settings.change",
)
MAX_REASON = 1000


def entry_id(at: int) -> str:
    """A ULID of the instant `at`: time windows and the cursor are bounds on it."""
    return str(ULID.from_bytes(max(at, 0).to_bytes(6, "big") + os.urandom(10)))


def record(
    tx: Tx,
    actor: str,
    action: str,
    *,
    at: int,
    target_kind: str | None = None,
    target_id: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Write one entry in `tx` (so it commits or rolls back with the action); returns its id.

    `actor` comes from `actors.current()`, read before the unit of work runs."""
    row = {
        "id": entry_id(at),
        "at": at,
        "actor": actor,
        "action": action,
        "target_kind": target_kind,
        "target_id": target_id,
        "reason": reason[:MAX_REASON] if reason else None,
        "details": codec.dumps(details or {}),
    }
    audit_repo.insert(tx, row)
    return str(row["id"])


async def record_now(
    connector: Connector,
    action: str,
    *,
    at: int,
    target_kind: str | None = None,
    target_id: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Record an entry in a transaction of its own, as the current actor."""
    actor = actors.current()

    def unit(tx: Tx) -> str:
        return record(
            tx,
            actor,
            action,
            at=at,
            target_kind=target_kind,
            target_id=target_id,
            reason=reason,
            details=details,
        )

    entry: str = await connector.write(unit)
    return entry
