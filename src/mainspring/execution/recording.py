"""Units of work that record an SDK reply and what follows from it, all in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mainspring.domain import events as names
from mainspring.domain.functions import Functions
from mainspring.domain.queue import Kind, QueueItem
from mainspring.domain.runs import RunState, RunStatus
from mainspring.execution import opcodes, signal_waits
from mainspring.ingest import accept
from mainspring.ingest import events as event_input
from mainspring.runs import sidecar, transitions
from mainspring.runs.transitions import Effects
from mainspring.store.base import Tx
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import pauses as pauses_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo


def still_running(tx: Tx, state: RunState, item: QueueItem) -> bool:
    """A run cancelled while its call was in flight: the reply is discarded, the item dropped."""
    if runs_repo.status(tx, state.run_id) == RunStatus.RUNNING:
        return True
    queue_repo.delete(tx, item.id)
    return False


def record_retry(
    tx: Tx, state: RunState, item: QueueItem, decision: opcodes.Retry, attempt: int, now: int
) -> None:
    if not still_running(tx, state, item):
        return
    _write_notes(tx, state, decision.notes)
    for saved in decision.saved:  # results that came with the error (server-side requests)
        _save(tx, state, saved, attempt + 1, now)
    if decision.sidecar:
        sidecar.record(tx, state.run_id, decision.sidecar, now, state.defers)
    runs_repo.add_history(
        tx,
        state.run_id,
        now,
        "step.error" if decision.step_id else "call.error",
        step_id=decision.step_id or item.step_id,
        step_name=decision.step_name or item.step_name,
        attempt=attempt,
        data=decision.error,
    )
    queue_repo.reschedule(tx, item.id, attempt=attempt + 1, available_at=now + decision.delay_ms)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `record_progress` decided. `all_written`, asked after commit, tells whether every
    result was memoized; when not, the caller checks the run with `after_refusal` before
    calling the app again (asking only then spares the hot path a wait for the answer)."""

    go_on: bool
    all_written: Callable[[], bool] = lambda: True


STOP = Recorded(go_on=False)


def record_progress(
    tx: Tx,
    state: RunState,
    item: QueueItem,
    progress: opcodes.Progress,
    attempt: int,
    now: int,
    functions: Functions,
    effects: Effects,
) -> Recorded:
    """Memoize results and queue planned work. `go_on` when the discovery may go on at once."""
    if progress.scheduled and not still_running(tx, state, item):
        return STOP
    _write_notes(tx, state, progress.notes)
    writes = [_save(tx, state, saved, attempt + 1, now) for saved in progress.saved]
    if progress.sidecar:
        sidecar.record(tx, state.run_id, progress.sidecar, now, state.defers)
    # The hot path (results only, the same item calls the app again): nothing written below
    # depends on the writes, so their outcome is read after commit (`Recorded.all_written`).
    deferred = _stays_on(item, progress)
    if not deferred and not all(written() for written in writes):
        if not still_running(tx, state, item):  # cancelled while the call was in flight
            return STOP
    if item.is_discovery and progress.scheduled:
        # This item ends below; free the run's discovery key first. A step resolved while
        # scheduling (an invoke of a missing function) queues the next discovery, which the
        # dedupe key would otherwise merge into this item, deleted at the end: a zombie run.
        queue_repo.delete(tx, item.id)
    for later in progress.scheduled:
        if not _schedule(tx, state, later, now, functions, effects):
            return STOP  # the run ended (a signal already waited on): its items are gone
    if progress.parallel:  # unconditional: a unit may run twice (see store/batching.py)
        state.force_plan = True
        runs_repo.set_plan(tx, state.run_id, True, state.request_version)
    if item.is_discovery and progress.continues_at_once:
        if attempt:
            queue_repo.set_attempt(tx, item.id, 0)
        if deferred:
            return Recorded(go_on=True, all_written=lambda: all(w() for w in writes))
        return Recorded(go_on=True)
    _end_item(tx, state, item, progress, attempt, now)
    return STOP


def _end_item(
    tx: Tx,
    state: RunState,
    item: QueueItem,
    progress: opcodes.Progress,
    attempt: int,
    now: int,
) -> None:
    """The item's call is done: resolve its targeted step, or retry an empty discovery."""
    if item.step_id is not None:
        race = bool(item.payload and item.payload.get("race"))
        _resolve(tx, state, item.step_id, now, race=race)
    elif not (progress.saved or progress.scheduled) and not runs_repo.pending_count(
        tx, state.run_id
    ):
        # An empty answer to a discovery with nothing pending would strand the run: try again.
        queue_repo.reschedule(tx, item.id, attempt=attempt + 1, available_at=now + 1_000)
        runs_repo.add_history(
            tx,
            state.run_id,
            now,
            "call.error",
            attempt=attempt,
            data={"message": "empty reply to a discovery call"},
        )
        return
    queue_repo.delete(tx, item.id)


def _stays_on(item: QueueItem, progress: opcodes.Progress) -> bool:
    """Results only, and the same item calls the app again: nothing written depends on them."""
    return (
        not progress.scheduled
        and not progress.parallel
        and item.is_discovery
        and progress.continues_at_once
    )


def after_refusal(tx: Tx, state: RunState, item: QueueItem) -> bool:
    """A result was not memoized: the run ended meanwhile (drop its item, stop) or the step had
    been memoized already (the stored result wins: reload them, go on)."""
    fresh = runs_repo.load_state(tx, state.run_id)
    if fresh is None or fresh.status != RunStatus.RUNNING:
        queue_repo.delete(tx, item.id)
        return False
    state.steps, state.stack, state.defers = fresh.steps, fresh.stack, fresh.defers
    return True


def _schedule(
    tx: Tx,
    state: RunState,
    later: opcodes.Scheduled,
    now: int,
    functions: Functions,
    effects: Effects,
) -> bool:
    """Queue or park one scheduled step; False when that ended the run instead."""
    runs_repo.add_pending(tx, state.run_id, later.step_id)
    if later.kind in ("planned", "sleep"):
        _queue_step(tx, state, later, now)
    elif later.kind == "wait":
        _wait(tx, state, later, now, effects)
    elif later.kind == "signal":
        return signal_waits.wait(tx, state, later, now, functions, effects)
    else:
        _invoke(tx, state, later, now, functions, effects)
    return True


def _queue_step(tx: Tx, state: RunState, later: opcodes.Scheduled, now: int) -> None:
    """A planned step's targeted call, or a sleeping step's wake-up, at `later.at_ms`."""
    kind = Kind.CALL if later.kind == "planned" else Kind.SLEEP
    queue_repo.enqueue(
        tx,
        kind=kind,
        run_id=state.run_id,
        available_at=later.at_ms,
        now=now,
        step_id=later.step_id,
        step_name=later.name,
        dedupe_key=f"{kind.value}:{state.run_id}:{later.step_id}",
        payload={"race": True} if later.opts.get("race") else None,
    )
    runs_repo.add_history(
        tx,
        state.run_id,
        now,
        f"step.{later.kind}",
        step_id=later.step_id,
        step_name=later.name,
        data={"until": later.at_ms} if later.kind == "sleep" else None,
    )


# How many events that arrived during the call a new wait looks at (oldest first).
ARRIVED_LOOKBACK = 100


def _wait(tx: Tx, state: RunState, later: opcodes.Scheduled, now: int, effects: Effects) -> None:
    arrived = _arrived_during_call(tx, state, later)
    if arrived is not None:  # sent while the call that reached the wait was in flight
        runs_repo.add_history(
            tx,
            state.run_id,
            now,
            "step.waiting",
            step_id=later.step_id,
            step_name=later.name,
            data={"event": later.opts["event"], "if": later.opts.get("if"), "until": later.at_ms},
        )
        transitions.resume_step(
            tx, state.run_id, later.step_id, later.name, "WaitForEvent", arrived, now
        )
        effects.woken += 1
        return
    _pause(tx, state, later, "wait", later.opts["event"], later.opts.get("if"), now)
    runs_repo.add_history(
        tx,
        state.run_id,
        now,
        "step.waiting",
        step_id=later.step_id,
        step_name=later.name,
        data={"event": later.opts["event"], "if": later.opts.get("if"), "until": later.at_ms},
    )


def _arrived_during_call(
    tx: Tx, state: RunState, later: opcodes.Scheduled
) -> dict[str, Any] | None:
    """The oldest matching event received since the call that declared this wait went out.

    Closes the race of "start a run, then send the event it will wait for" (the TypeScript
    SDK's example suite does exactly that): the function reached the wait during that call, so
    an event received meanwhile came after the wait began, though before it was recorded."""
    since = state.call_started_at
    if since is None:
        return None
    trigger = state.events[0] if state.events else {}
    expression = later.opts.get("if")
    own = {event.get("id") for event in state.events}  # the run's trigger, same millisecond
    for event in events_repo.events_since(tx, later.opts["event"], since, ARRIVED_LOOKBACK):
        payload = event.payload()
        if payload.get("id") in own:
            continue
        if pauses_repo.matches(expression, trigger, payload):
            return payload
    return None


def _pause(
    tx: Tx,
    state: RunState,
    later: opcodes.Scheduled,
    kind: str,
    event: str,
    expression: str | None,
    now: int,
) -> None:
    pause_id = f"{state.run_id}:{later.step_id}"
    pauses_repo.create(
        tx,
        pause_id=pause_id,
        run_id=state.run_id,
        kind=kind,
        event_name=event,
        expression=expression,
        trigger_event=state.events[0] if state.events else {},
        expires_at=later.at_ms,
        now=now,
        step_id=later.step_id,
        step_name=later.name,
    )
    queue_repo.enqueue_pause_timeout(
        tx, state.run_id, later.step_id, later.name, pause_id, later.at_ms, now
    )


def _invoke(
    tx: Tx,
    state: RunState,
    later: opcodes.Scheduled,
    now: int,
    functions: Functions,
    effects: Effects,
) -> None:
    target_slug = str(later.opts.get("function_id") or "")
    target = functions.get(target_slug)
    if target is None:
        error = {"name": "Error", "message": f"could not find function with ID: {target_slug}"}
        transitions.resume_step(
            tx, state.run_id, later.step_id, later.name, "InvokeFunction", {"error": error}, now
        )
        effects.woken += 1
        return
    correlation_id = f"{state.run_id}.{later.step_id}"
    _pause(
        tx,
        state,
        later,
        "invoke",
        names.FUNCTION_FINISHED,
        f'async.data.correlation_id == "{correlation_id}"',
        now,
    )
    event = _invoke_event(state, later, target.slug, correlation_id, now)
    runs_repo.add_history(
        tx,
        state.run_id,
        now,
        "step.invoking",
        step_id=later.step_id,
        step_name=later.name,
        data={"function_id": target.slug, "until": later.at_ms},
    )
    accept.process_events(
        tx,
        event_input.prepare([event], functions, now, internal=True),
        now,
        functions,
        effects,
    )


def _invoke_event(
    state: RunState, later: opcodes.Scheduled, slug: str, correlation_id: str, now: int
) -> dict[str, Any]:
    """The `inngest/function.invoked` event of a step's invoke; its finish answers the step."""
    payload = later.opts.get("payload") or {}
    data = dict(payload.get("data") or {})
    data["_inngest"] = {
        "fn_id": slug,
        "correlation_id": correlation_id,
        "expire": later.at_ms,
        "name": later.name,
        "source_fn_id": state.function_slug,
        "source_run_id": state.run_id,
    }
    event: dict[str, Any] = {"name": names.FUNCTION_INVOKED, "data": data, "ts": now}
    if isinstance(payload.get("user"), dict):
        event["user"] = payload["user"]
    if isinstance(payload.get("v"), str):
        event["v"] = payload["v"]
    return event


def record_wake(tx: Tx, state: RunState, item: QueueItem, now: int) -> None:
    """A sleep is over: memoize null for it and, once its group is done, queue discovery."""
    assert item.step_id is not None
    runs_repo.save_step(
        tx,
        state.run_id,
        step_id=item.step_id,
        name=item.step_name,
        op="Sleep",
        memo=None,
        attempts=1,
        now=now,
        history_kind="step.woke",
    )
    _resolve(tx, state, item.step_id, now)
    queue_repo.delete(tx, item.id)


def _write_notes(tx: Tx, state: RunState, notes: Iterable[opcodes.Note]) -> None:
    for note in notes:
        runs_repo.add_history(
            tx,
            state.run_id,
            note.at,
            note.kind,
            step_id=note.step_id,
            step_name=note.step_name,
            attempt=note.attempt,
            data=note.data,
        )


def _save(
    tx: Tx, state: RunState, saved: opcodes.SavedStep, attempts: int, now: int
) -> Callable[[], bool]:
    """Memoize one result; the returned function tells whether it was written (False for a
    duplicate, or when the run ended)."""
    failed = saved.failed or saved.op == "StepFailed"
    written = runs_repo.save_step(
        tx,
        state.run_id,
        step_id=saved.step_id,
        name=saved.name,
        op=saved.op,
        memo=saved.memo,
        attempts=attempts,
        now=now,
        history_kind="step.failed" if failed else "step.completed",
        history_attempt=attempts - 1,
        history_data=(
            saved.memo.get("error") if failed and isinstance(saved.memo, dict) else saved.detail
        ),
    )
    state.steps[saved.step_id] = saved.memo
    if saved.step_id not in state.stack:
        state.stack.append(saved.step_id)
    return written


def _resolve(tx: Tx, state: RunState, step_id: str, now: int, *, race: bool = False) -> None:
    """Wait mode: discovery once the whole group is done. Race mode: after every completion."""
    if runs_repo.continue_after(tx, state.run_id, step_id, now):
        state.force_plan = False
    elif race:
        queue_repo.enqueue_discovery(tx, state.run_id, now, now)
