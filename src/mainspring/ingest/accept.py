"""What an accepted event does, and what a run's end emits, inside one write transaction.

An event is stored (deduplicated by its sender id), starts the functions it matches, resumes the
pauses it satisfies (waits, invoke results) and cancels the runs whose cancel rules it meets.
A run that ends emits `inngest/function.finished` (and `…failed` / `…cancelled`, and one
`inngest/deferred.schedule` per live defer), which is itself an event: on-failure handlers and
invoking parents hear about it the same way. The run's own state changes are
`runs.transitions`; this module adds the events around them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mainspring.domain import events as names
from mainspring.domain import lifecycle
from mainspring.domain.events import NewEvent
from mainspring.domain.functions import FunctionDef, Functions
from mainspring.domain.runs import RunState, RunStatus
from mainspring.ingest import collect as flow_collect
from mainspring.ingest import deferred
from mainspring.ingest import events as event_input
from mainspring.runs import transitions
from mainspring.runs.transitions import Effects
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import flow as flow_repo
from mainspring.store.repos import pauses as pauses_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.store.repos.pauses import Pause

MAX_EMIT_DEPTH = 8
CANCELLED_ERROR = {"error": "function cancelled", "name": "Cancelled", "message": "run cancelled"}


def process_events(
    tx: Tx,
    events: list[NewEvent],
    now: int,
    functions: Functions,
    effects: Effects,
    depth: int = 0,
    prefetched: dict[str, list[Row]] | None = None,
    stored_already: frozenset[str] = frozenset(),
) -> Effects:
    """`prefetched`: the events' pause candidates, when the caller fetched them already;
    `stored_already`: events the caller's own statement inserted."""
    stored = events_repo.store_events(tx, events, now, stored_already)
    if depth == 0:  # the caller's own events, not the lifecycle events they cause
        effects.ids.extend(stored.ids)
    if prefetched is None:
        prefetched = _prefetch_candidates(tx, events, now)
    for event, internal_id in zip(events, stored.ids, strict=True):
        if internal_id != event.internal_id or event.internal_id not in stored.inserted:
            continue  # a duplicate: it starts and resumes nothing
        for function in event.matches:
            if function.flow.collects and not _collect(
                tx, function, event, now, functions, effects, depth
            ):
                continue
            run_id = start_run(tx, function, event, now, functions, effects, depth)
            if run_id is not None:
                effects.started.append(run_id)
        candidates = None if prefetched is None else prefetched[event.payload["name"]]
        for pause in pauses_repo.take_satisfied(tx, event.payload, now, candidates):
            _apply_pause(tx, pause, event.payload, now, functions, effects, depth)
    return effects


def _prefetch_candidates(
    tx: Tx, events: list[NewEvent], now: int, least: int = 2
) -> dict[str, list[Row]] | None:
    """One round trip for the pause candidates of a request's events, instead of one per event
    (requests of at least `least` events).

    Not when a run this request starts creates pauses (cancel rules): a later event of the same
    request must see them, so those requests look up event by event."""
    if len(events) < least or any(f.cancel for event in events for f in event.matches):
        return None
    return pauses_repo.prefetch_candidates(tx, {event.payload["name"] for event in events}, now)


def _collect(
    tx: Tx,
    function: FunctionDef,
    event: NewEvent,
    now: int,
    functions: Functions,
    effects: Effects,
    depth: int,
) -> bool:
    """Debounce / batchEvents hold the event; True when it should start a run of its own."""
    collected = flow_collect.collect(tx, function, event, now)
    if collected.timer:
        effects.woken += 1  # a timer item was queued: the worker must learn its due time
    if collected.start_events:
        start_collected(tx, function, collected.start_events, now, functions, effects, depth)
    return collected.alone


def start_collected(
    tx: Tx,
    function: FunctionDef,
    event_ids: list[str],
    now: int,
    functions: Functions,
    effects: Effects,
    depth: int = 0,
) -> str | None:
    """Start one run for held events (a batch, or a debounce's last event)."""
    stored = events_repo.get_event(tx, event_ids[0])
    if stored is None:
        return None
    first = NewEvent(stored.internal_id, stored.payload(), stored.id)
    run_id = start_run(tx, function, first, now, functions, effects, depth)
    if run_id is not None:
        if len(event_ids) > 1:
            flow_repo.set_run_events(tx, run_id, event_ids)
        effects.started.append(run_id)
    return run_id


def start_run(
    tx: Tx,
    function: FunctionDef,
    event: NewEvent,
    now: int,
    functions: Functions,
    effects: Effects,
    depth: int = 0,
) -> str | None:
    started = transitions.start(tx, function, event, now)
    if started.replaces is not None:  # singleton `cancel`: the newcomer replaces it
        cancel_run(tx, started.replaces, now, functions, effects, depth + 1)
    if started.run_id is not None:
        transitions.arm_run(tx, function, started.run_id, event.payload, now)
    return started.run_id


def _apply_pause(
    tx: Tx,
    pause: Pause,
    event: dict[str, Any],
    now: int,
    functions: Functions,
    effects: Effects,
    depth: int,
) -> None:
    if not pause.taken and not pauses_repo.consume(tx, pause.id):
        return
    if pause.kind == "cancel":
        cancel_run(tx, pause.run_id, now, functions, effects, depth + 1)
        return
    memo = event if pause.kind == "wait" else _invoke_memo(event)
    op = "WaitForEvent" if pause.kind == "wait" else "InvokeFunction"
    assert pause.step_id is not None
    queue_repo.delete_by_dedupe_key(tx, f"pause-timeout:{pause.run_id}:{pause.step_id}")
    if transitions.resume_step(tx, pause.run_id, pause.step_id, pause.step_name, op, memo, now):
        effects.woken += 1


def _invoke_memo(finished: dict[str, Any]) -> dict[str, Any]:
    data = finished.get("data") or {}
    status = (data.get("_inngest") or {}).get("status")
    if status == RunStatus.COMPLETED.value:
        return {"data": data.get("result")}
    if status == RunStatus.CANCELLED.value:
        return {"error": {"name": "Error", "message": "the invoked function run was cancelled"}}
    return {"error": data.get("error") or {"name": "Error", "message": "invoked function failed"}}


def end_run(
    tx: Tx,
    state: RunState,
    status: RunStatus,
    output: Any,
    error: dict[str, Any] | None,
    now: int,
    functions: Functions,
    effects: Effects,
    depth: int = 0,
) -> bool:
    """End a running run and emit its lifecycle events; False if it had already ended."""
    emitted: list[NewEvent] = []
    if depth < MAX_EMIT_DEPTH:
        raw = lifecycle.finish_events(state, status, output, error, now)
        emitted = event_input.prepare(raw, functions, now, internal=True)
    # `inngest/function.finished` (a fresh id) is stored by the statement that ends the run.
    finished = next(
        (e for e in emitted if e.payload["name"] == names.FUNCTION_FINISHED and not e.seeded),
        None,
    )
    if not transitions.finish(tx, state, status, output, now, finished, functions):
        return False
    # Its defers' schedule events: only the transaction that ended the run gets here.
    emitted = [*emitted, *deferred.schedule(tx, state, now, functions)]
    if not emitted:
        return True
    # The candidates of the lifecycle events' names, shared by the batch's finishing runs.
    candidates = _prefetch_candidates(tx, emitted, now, least=1)
    stored = frozenset() if finished is None else frozenset({finished.internal_id})
    process_events(tx, emitted, now, functions, effects, depth + 1, candidates, stored)
    return True


def cancel_run(
    tx: Tx, run_id: str, now: int, functions: Functions, effects: Effects, depth: int = 0
) -> bool:
    state = runs_repo.load_state(tx, run_id)
    if state is None or state.status.is_terminal:
        return False
    error = dict(CANCELLED_ERROR)
    return end_run(tx, state, RunStatus.CANCELLED, None, error, now, functions, effects, depth)


class Ingest:
    """The event API's work: validated events are committed before the caller is answered."""

    def __init__(
        self, connector: Connector, functions: Functions, on_new_work: Callable[[], None]
    ) -> None:
        self._connector = connector
        self._functions = functions
        self._on_new_work = on_new_work

    async def accept(
        self, raw_events: list[Any], now: int, id_seed: str | None = None
    ) -> list[str]:
        prepared = event_input.prepare(raw_events, self._functions, now, id_seed=id_seed)
        effects = await self._connector.write(
            lambda tx: process_events(tx, prepared, now, self._functions, Effects())
        )
        if effects.new_work:
            self._on_new_work()
        return effects.ids

    async def run_unit(self, unit: Callable[[Tx, Effects], Any]) -> Any:
        """Run a unit that may emit events or wake runs, then notify the worker."""
        effects = Effects()
        result = await self._connector.write(lambda tx: unit(tx, effects))
        if effects.new_work:
            self._on_new_work()
        return result

    @property
    def functions(self) -> Functions:
        return self._functions


def emit_unit(
    raw_events: list[dict[str, Any]], functions: Functions, now: int
) -> Callable[[Tx, Effects], list[str]]:
    """A unit storing server-made events (cron ticks, invokes from outside)."""
    emitted = event_input.prepare(raw_events, functions, now, internal=True)

    def unit(tx: Tx, effects: Effects) -> list[str]:
        return process_events(tx, emitted, now, functions, effects).ids

    return unit


def invoke_event(
    slug: str, data: dict[str, Any], user: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The `inngest/function.invoked` event that starts exactly function `slug` (REST, UI)."""
    return {
        "name": names.FUNCTION_INVOKED,
        "data": {**data, "_inngest": {"fn_id": slug}},
        "user": user or {},
    }
