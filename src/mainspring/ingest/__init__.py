"""What an accepted event does, and what a run's end emits, inside one write transaction.

An event is stored (deduplicated by its sender id), starts the functions it matches, resumes the
pauses it satisfies (waits, invoke results) and cancels the runs whose cancel rules it meets.
A run that ends emits `inngest/function.finished` (and `…failed` / `…cancelled`), which is
itself an event: on-failure handlers and invoking parents hear about it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mainspring import event_input
from mainspring.domain import events as names
from mainspring.domain import lifecycle
from mainspring.domain.functions import FunctionDef, Functions
from mainspring.domain.queue import Kind
from mainspring.domain.runs import RunState, RunStatus
from mainspring.ingest import collect as flow_collect
from mainspring.runs import admission as flow_admission
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import flow as flow_repo
from mainspring.store.repos import pauses as pauses_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.store.repos.pauses import Pause

MAX_EMIT_DEPTH = 8
INVOKE_TIMEOUT_ERROR = {
    "name": "InngestInvokeTimeoutError",
    "message": "Timed out waiting for invoked function to complete",
}
INVOKE_TIMEOUT_MEMO: dict[str, Any] = {"error": INVOKE_TIMEOUT_ERROR}


@dataclass(slots=True)
class Effects:
    """What a unit set in motion, for the caller to act on after commit."""

    ids: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    woken: int = 0

    @property
    def new_work(self) -> bool:
        return bool(self.started) or self.woken > 0


def process_events(
    tx: Tx,
    events: list[events_repo.NewEvent],
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
        for pause in pauses_repo.satisfied_by(tx, event.payload, now, candidates):
            _apply_pause(tx, pause, event.payload, now, functions, effects, depth)
    return effects


def _prefetch_candidates(
    tx: Tx, events: list[events_repo.NewEvent], now: int, least: int = 2
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
    event: events_repo.NewEvent,
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
    first = events_repo.NewEvent(stored.internal_id, stored.payload(), stored.id)
    run_id = start_run(tx, function, first, now, functions, effects, depth)
    if run_id is not None:
        if len(event_ids) > 1:
            flow_repo.set_run_events(tx, run_id, event_ids)
        effects.started.append(run_id)
    return run_id


def start_run(
    tx: Tx,
    function: FunctionDef,
    event: events_repo.NewEvent,
    now: int,
    functions: Functions,
    effects: Effects,
    depth: int = 0,
) -> str | None:
    admission = None
    if function.flow.gates_start:
        admission = flow_admission.decide(tx, function, event.payload, now)
        if admission.skip_reason is not None:
            flow_admission.skip(tx, function, event.internal_id, admission.skip_reason, now)
            return None
    # Without follow-ups for the new run, nothing waits for the database's answer.
    follow_ups = (
        admission is not None or bool(function.cancel) or function.start_timeout_ms is not None
    )
    run_id = runs_repo.start_run(
        tx, function, event.internal_id, event.payload["id"], now, confirm=follow_ups
    )
    if run_id is None:
        return None
    if admission is not None:
        flow_admission.place(tx, run_id, admission, now)
        if admission.cancel_run_id is not None:  # singleton `cancel`: the newcomer replaces it
            cancel_run(tx, admission.cancel_run_id, now, functions, effects, depth + 1)
    arm_run(tx, function, run_id, event.payload, now)
    return run_id


def arm_run(
    tx: Tx, function: FunctionDef, run_id: str, trigger_event: dict[str, Any], now: int
) -> None:
    """A new run's cancel rules and start timeout (also used by reruns)."""
    for position, rule in enumerate(function.cancel):
        pauses_repo.create(
            tx,
            pause_id=f"{run_id}:cancel:{position}",
            run_id=run_id,
            kind="cancel",
            event_name=rule.event,
            expression=rule.expression,
            trigger_event=trigger_event,
            expires_at=now + (rule.timeout_ms or pauses_repo.FOREVER_MS),
            now=now,
        )
    if function.start_timeout_ms is not None:
        queue_repo.enqueue(
            tx,
            kind=Kind.RUN_TIMEOUT,
            run_id=run_id,
            available_at=now + function.start_timeout_ms,
            now=now,
            step_name="start",
            dedupe_key=f"run-timeout:start:{run_id}",
        )


def _apply_pause(
    tx: Tx,
    pause: Pause,
    event: dict[str, Any],
    now: int,
    functions: Functions,
    effects: Effects,
    depth: int,
) -> None:
    if not pauses_repo.consume(tx, pause.id):
        return
    if pause.kind == "cancel":
        cancel_run(tx, pause.run_id, now, functions, effects, depth + 1)
        return
    memo = event if pause.kind == "wait" else _invoke_memo(event)
    op = "WaitForEvent" if pause.kind == "wait" else "InvokeFunction"
    assert pause.step_id is not None
    queue_repo.delete_by_dedupe_key(tx, f"pause-timeout:{pause.run_id}:{pause.step_id}")
    if resume_step(tx, pause.run_id, pause.step_id, pause.step_name, op, memo, now):
        effects.woken += 1


def _invoke_memo(finished: dict[str, Any]) -> dict[str, Any]:
    data = finished.get("data") or {}
    status = (data.get("_inngest") or {}).get("status")
    if status == RunStatus.COMPLETED.value:
        return {"data": data.get("result")}
    if status == RunStatus.CANCELLED.value:
        return {"error": {"name": "Error", "message": "the invoked function run was cancelled"}}
    return {"error": data.get("error") or {"name": "Error", "message": "invoked function failed"}}


def resume_step(
    tx: Tx, run_id: str, step_id: str, name: str | None, op: str, memo: Any, now: int
) -> bool:
    """Memoize a waited-for result and, once nothing else of its group is pending, continue."""
    if runs_repo.status(tx, run_id) != RunStatus.RUNNING:
        return False
    kind = "step.timed_out" if memo is None or memo is INVOKE_TIMEOUT_MEMO else "step.resumed"
    runs_repo.save_step(
        tx,
        run_id,
        step_id=step_id,
        name=name,
        op=op,
        memo=memo,
        attempts=1,
        now=now,
        history_kind=kind,
    )
    runs_repo.continue_after(tx, run_id, step_id, now)
    return True


def expire_pause(tx: Tx, pause_id: str, now: int) -> bool:
    """A wait or invoke timed out (if nothing consumed it first): memoize its timeout value."""
    pause = pauses_repo.get(tx, pause_id)
    if pause is None or not pauses_repo.consume(tx, pause_id):
        return False
    assert pause.step_id is not None
    memo = None if pause.kind == "wait" else INVOKE_TIMEOUT_MEMO
    op = "WaitForEvent" if pause.kind == "wait" else "InvokeFunction"
    return resume_step(tx, pause.run_id, pause.step_id, pause.step_name, op, memo, now)


def finish_run(
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
    emitted: list[events_repo.NewEvent] = []
    if depth < MAX_EMIT_DEPTH:
        raw = lifecycle.finish_events(state, status, output, error, now)
        emitted = event_input.prepare(raw, functions, now, internal=True)
    # `inngest/function.finished` (a fresh id) is stored by the statement that ends the run.
    finished = next(
        (e for e in emitted if e.payload["name"] == names.FUNCTION_FINISHED and not e.seeded),
        None,
    )
    # Someone else ending it first (a cancel racing the last step) is rare: go on as if this
    # ended it, checked before commit (on PostgreSQL, no wait per run for the answer).
    if not tx.assume(runs_repo.finish(tx, state.run_id, status, output, now, finished)):
        return False
    function = functions.get(state.function_slug)
    if function is not None and function.flow.concurrency:
        flow_repo.forget_run(tx, state.run_id)  # its concurrency keys are needed no more
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
    error = {"error": "function cancelled", "name": "Cancelled", "message": "run cancelled"}
    return finish_run(tx, state, RunStatus.CANCELLED, None, error, now, functions, effects, depth)


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
