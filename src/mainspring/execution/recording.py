"""Units of work that record an SDK reply and what follows from it, all in one transaction."""

from __future__ import annotations

from typing import Any

from mainspring.domain.runs import RunState, RunStatus
from mainspring.execution import opcodes
from mainspring.queue.kinds import Kind, QueueItem
from mainspring.store.base import Tx
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo


def record_finish(
    tx: Tx,
    state: RunState,
    item: QueueItem,
    status: RunStatus,
    output: Any,
    events: list[events_repo.NewEvent],
    now: int,
) -> list[str]:
    """End the run (if still running) and emit its lifecycle events; returns runs they started."""
    if not runs_repo.finish(tx, state.run_id, status, output, now):
        queue_repo.delete(tx, item.id)
        return []
    return events_repo.store_events(tx, events, now).run_ids


def record_retry(
    tx: Tx, state: RunState, item: QueueItem, decision: opcodes.Retry, attempt: int, now: int
) -> None:
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


def record_progress(
    tx: Tx,
    state: RunState,
    item: QueueItem,
    progress: opcodes.Progress,
    attempt: int,
    now: int,
) -> bool:
    """Memoize results and queue planned work. True when the discovery may go on at once."""
    for saved in progress.saved:
        _save(tx, state, saved, attempt + 1, now)
    for later in progress.scheduled:
        runs_repo.add_pending(tx, state.run_id, later.step_id)
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
    if progress.parallel and not state.force_plan:
        state.force_plan = True
        runs_repo.set_plan(tx, state.run_id, True, state.request_version)
    if item.is_discovery and progress.continues_at_once:
        if attempt:
            queue_repo.set_attempt(tx, item.id, 0)
        return True
    if item.step_id is not None:
        _resolve(tx, state, item.step_id, now)
    queue_repo.delete(tx, item.id)
    return False


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
    )
    runs_repo.add_history(
        tx, state.run_id, now, "step.woke", step_id=item.step_id, step_name=item.step_name
    )
    _resolve(tx, state, item.step_id, now)
    queue_repo.delete(tx, item.id)


def record_version(tx: Tx, state: RunState) -> None:
    runs_repo.set_plan(tx, state.run_id, state.force_plan, state.request_version)


def _save(tx: Tx, state: RunState, saved: opcodes.SavedStep, attempts: int, now: int) -> None:
    if runs_repo.save_step(
        tx,
        state.run_id,
        step_id=saved.step_id,
        name=saved.name,
        op=saved.op,
        memo=saved.memo,
        attempts=attempts,
        now=now,
    ):
        failed = saved.op == "StepFailed"
        runs_repo.add_history(
            tx,
            state.run_id,
            now,
            "step.failed" if failed else "step.completed",
            step_id=saved.step_id,
            step_name=saved.name,
            attempt=attempts - 1,
            data=saved.memo.get("error") if failed and isinstance(saved.memo, dict) else None,
        )
    state.steps[saved.step_id] = saved.memo
    if saved.step_id not in state.stack:
        state.stack.append(saved.step_id)


def _resolve(tx: Tx, state: RunState, step_id: str, now: int) -> None:
    if runs_repo.resolve_pending(tx, state.run_id, step_id) == 0:
        if state.force_plan:
            state.force_plan = False
            runs_repo.set_plan(tx, state.run_id, False, state.request_version)
        queue_repo.enqueue_discovery(tx, state.run_id, now, now)
