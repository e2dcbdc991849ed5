"""The kill switch: every function is held at once, as if each were paused.

While active, no run makes a new SDK call (runs already started stop at their next step
boundary), events are still accepted and stored, and crons do not fire. Deactivating resumes
everything except functions paused on their own; `skip_held_events` ends the runs whose event
arrived while the switch was on and that never started (default: they start).
"""

from __future__ import annotations

from typing import Any

from mainspring import audit, ingest
from mainspring.clock import Clock
from mainspring.domain.durations import rfc3339
from mainspring.operations.holds import Holds
from mainspring.operations.pausing import skip_runs
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import operations as ops_repo


def kill_switch_view(row: Row | None) -> dict[str, Any]:
    """`{"active", "reason", "requested_by", "since"}` as `GET /v1/kill-switch` answers."""
    if row is None:
        return {"active": False, "reason": None, "requested_by": None, "since": None}
    return {
        "active": True,
        "reason": row["reason"],
        "requested_by": row["requested_by"],
        "since": rfc3339(row["since"]),
    }


class KillSwitch:
    def __init__(
        self, ingest_service: ingest.Ingest, holds: Holds, clock: Clock, connector: Connector
    ) -> None:
        self._connector = connector
        self._ingest = ingest_service
        self._holds = holds
        self._clock = clock

    async def state(self) -> dict[str, Any]:
        row = await self._connector.read(ops_repo.kill_switch)
        return kill_switch_view(row)

    async def activate(
        self, *, reason: str | None = None, requested_by: str | None = None
    ) -> dict[str, Any]:
        """Turn the switch on (idempotent: the first activation's reason and time are kept)."""
        now = self._clock()
        actor = audit.current()

        def unit(tx: Tx, effects: ingest.Effects) -> Row | None:
            changed = ops_repo.activate_kill_switch(tx, reason, requested_by, now)
            details = {"changed": changed, "requested_by": requested_by}
            audit.record(tx, actor, "kill_switch.on", at=now, reason=reason, details=details)
            return ops_repo.kill_switch(tx)

        row = await self._ingest.run_unit(unit)
        await self._holds.refresh()
        return kill_switch_view(row)

    async def deactivate(self, *, skip_held_events: bool = False) -> dict[str, Any]:
        """Turn the switch off; answers the new state plus `resumed` and `skipped_run_ids`."""
        now = self._clock()
        functions = self._ingest.functions
        actor = audit.current()

        def unit(tx: Tx, effects: ingest.Effects) -> dict[str, Any]:
            row = ops_repo.kill_switch(tx)
            skipped: list[str] = []
            if row is not None and skip_held_events:
                held = ops_repo.unstarted_runs(tx, None, row["since"])
                reason = "the kill switch was active when its event arrived"
                skipped = skip_runs(tx, held, reason, now, functions, effects)
            ops_repo.deactivate_kill_switch(tx)
            resumed = ops_repo.unpark_all(tx, now) if row is not None else 0
            effects.woken += 1  # wake the worker: held items are due again
            outcome = {"resumed": resumed, "skipped_run_ids": skipped}
            details = {"changed": row is not None, "skip_held_events": skip_held_events, **outcome}
            audit.record(tx, actor, "kill_switch.off", at=now, details=details)
            return {**kill_switch_view(None), **outcome}

        result: dict[str, Any] = await self._ingest.run_unit(unit)
        await self._holds.refresh()
        return result
