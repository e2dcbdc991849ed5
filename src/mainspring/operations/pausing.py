"""Pausing and resuming one function.

A paused function starts no new runs and makes no new SDK calls; its events are still accepted
and stored, and the runs they match are created but held (their first call is parked). Runs
already started stop at their next step boundary and continue exactly where they were on resume.
Crons of a paused function do not fire (their slots are skipped, the schedule goes on).

On resume the caller chooses what happens to runs whose event arrived while the function was
paused (`skip_held_events`): by default they start; when skipped they end `Cancelled` with the
output `{"skipped": …}` and make no SDK call. Their events stay stored either way.
"""

from __future__ import annotations

from typing import Any

from mainspring import audit, errors, ingest
from mainspring.clock import Clock
from mainspring.domain.durations import rfc3339
from mainspring.domain.functions import Functions
from mainspring.domain.runs import RunStatus
from mainspring.operations.holds import Holds
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import operations as ops_repo
from mainspring.store.repos import runs as runs_repo


def pause_view(row: Row | None, slug: str) -> dict[str, Any]:
    """`{"function_id", "paused", "reason", "requested_by", "since"}`."""
    if row is None:
        return {
            "function_id": slug,
            "paused": False,
            "reason": None,
            "requested_by": None,
            "since": None,
        }
    return {
        "function_id": row["function_slug"],
        "paused": True,
        "reason": row["reason"],
        "requested_by": row["requested_by"],
        "since": rfc3339(row["paused_at"]),
    }


def skip_runs(
    tx: Tx,
    run_ids: list[str],
    reason: str,
    now: int,
    functions: Functions,
    effects: ingest.Effects,
) -> list[str]:
    """End held, never-started runs without calling the SDK; returns the runs ended."""
    skipped = []
    for run_id in run_ids:
        state = runs_repo.load_state(tx, run_id)
        if state is None or state.status.is_terminal:
            continue
        output = {"skipped": reason}
        error = {"name": "Skipped", "message": reason}
        status = RunStatus.CANCELLED
        if ingest.end_run(tx, state, status, output, error, now, functions, effects):
            runs_repo.add_history(tx, run_id, now, "run.skipped", data={"reason": reason})
            skipped.append(run_id)
    return skipped


class Pausing:
    """Pause / resume functions (used by the REST API and the dashboard alike)."""

    def __init__(
        self, ingest_service: ingest.Ingest, holds: Holds, clock: Clock, connector: Connector
    ) -> None:
        self._connector = connector
        self._ingest = ingest_service
        self._holds = holds
        self._clock = clock

    def _known(self, slug: str) -> None:
        if self._ingest.functions.get(slug) is None:
            raise errors.NotFound(f"function {slug} not found")

    async def status(self, slug: str) -> dict[str, Any]:
        """The function's pause state; raises NotFound for an unknown function."""
        self._known(slug)
        row = await self._connector.read(lambda tx: ops_repo.get_pause(tx, slug))
        return pause_view(row, slug)

    async def list_paused(self) -> list[dict[str, Any]]:
        rows = await self._connector.read(ops_repo.list_pauses)
        return [pause_view(row, row["function_slug"]) for row in rows]

    async def pause(
        self, slug: str, *, reason: str | None = None, requested_by: str | None = None
    ) -> dict[str, Any]:
        """Pause `slug` (idempotent: pausing again keeps the first pause)."""
        self._known(slug)
        now = self._clock()
        actor = audit.current()

        def unit(tx: Tx, effects: ingest.Effects) -> Row | None:
            changed = ops_repo.pause(tx, slug, reason, requested_by, now)
            audit.record(
                tx,
                actor,
                "function.pause",
                at=now,
                target_kind="function",
                target_id=slug,
                reason=reason,
                details={"changed": changed, "requested_by": requested_by},
            )
            return ops_repo.get_pause(tx, slug)

        row = await self._ingest.run_unit(unit)
        await self._holds.refresh()
        return pause_view(row, slug)

    async def resume(self, slug: str, *, skip_held_events: bool = False) -> dict[str, Any]:
        """Resume `slug`; its held runs continue, or (never-started ones) are skipped.

        Answers `{"function_id", "paused": false, "resumed": n, "skipped_run_ids": [...]}`;
        resuming a running function changes nothing.
        """
        self._known(slug)
        now = self._clock()
        functions = self._ingest.functions
        actor = audit.current()

        def unit(tx: Tx, effects: ingest.Effects) -> dict[str, Any]:
            row = ops_repo.get_pause(tx, slug)
            skipped: list[str] = []
            if row is not None and skip_held_events:
                held = ops_repo.unstarted_runs(tx, slug, row["paused_at"])
                reason = f"{slug} was paused when its event arrived"
                skipped = skip_runs(tx, held, reason, now, functions, effects)
            ops_repo.unpause(tx, slug)
            resumed = ops_repo.unpark_function(tx, slug, now) if row is not None else 0
            effects.woken += 1  # wake the worker: held items are due again
            outcome = {"resumed": resumed, "skipped_run_ids": skipped}
            audit.record(
                tx,
                actor,
                "function.resume",
                at=now,
                target_kind="function",
                target_id=slug,
                details={
                    "changed": row is not None,
                    "skip_held_events": skip_held_events,
                    **outcome,
                },
            )
            return {"function_id": slug, "paused": False, **outcome}

        result: dict[str, Any] = await self._ingest.run_unit(unit)
        await self._holds.refresh()
        return result
