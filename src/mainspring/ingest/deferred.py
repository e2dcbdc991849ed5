"""A run's end emits one `inngest/deferred.schedule` event per live defer (`domain.defers`).

Called by `accept.end_run` after the statement that ended the run, in its transaction: a run
ends once, so each defer's event is stored once, however often its end is attempted or by how
many processes at a time (the losers' transactions end nothing and emit nothing). The event's id
is derived from the run and the defer as well, so even a second emission would be a duplicate.
"""

from __future__ import annotations

from mainspring.domain import defers
from mainspring.domain.events import NewEvent
from mainspring.domain.functions import Functions
from mainspring.domain.runs import RunState
from mainspring.ingest import events as event_input
from mainspring.store.base import Tx
from mainspring.store.repos import defers as defers_repo


def schedule(tx: Tx, state: RunState, now: int, functions: Functions) -> list[NewEvent]:
    """The prepared events of the run's live defers, each marked scheduled in the store; none
    (and no query) for a run known to have reported no defer.

    The in-memory `state.defers` is left as it is: this transaction may still roll back (a
    batch that fails is retried unit by unit), and a retry that believed its defers already
    scheduled would emit none."""
    if not state.defers_stale and defers.LIVE not in state.defers.values():
        return []
    rows = defers_repo.live(tx, state.run_id)
    if not rows:
        return []
    function = functions.get(state.function_slug)
    raw = [
        defers.schedule_event(
            run_id=state.run_id,
            parent_slug=state.function_slug,
            parent_function_id=state.function_id,
            parent_app_id=None if function is None else function.app_id,
            hashed_id=row["hashed_id"],
            fn_slug=row["fn_slug"],
            data=row["input"],
            now=now,
        )
        for row in rows
    ]
    prepared = event_input.prepare(raw, functions, now, internal=True)
    for row, event in zip(rows, prepared, strict=True):
        defers_repo.mark_scheduled(tx, state.run_id, row, event.internal_id, now)
    return prepared
