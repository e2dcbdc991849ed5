"""Debounce and batchEvents inside the event's transaction: events are held per key in
`flow_pending` with one timer item in the queue (kind flow-fire); the run starts when the timer
fires or the batch is full. On PostgreSQL the key's row is locked, so concurrent events of one
key (from several processes) are added one after the other and a firing timer sees the last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mainspring.domain.events import NewEvent
from mainspring.domain.functions import FunctionDef
from mainspring.domain.queue import Kind
from mainspring.flow import batch, debounce, keys
from mainspring.store.base import Tx
from mainspring.store.repos import flow as flow_repo
from mainspring.store.repos import queue as queue_repo


@dataclass(slots=True)
class Collected:
    start_events: list[str] = field(default_factory=list)  # start a run with these now
    timer: bool = False  # a timer item was queued (the worker should look at the queue)
    alone: bool = False  # not held: start a run for this event as usual


def timer_key(key: str) -> str:
    return f"flow:{key}"


def collect(tx: Tx, function: FunctionDef, event: NewEvent, now: int) -> Collected:
    flow = function.flow
    if flow.debounce is not None:
        rule = flow.debounce
        key = keys.scoped(f"debounce:{function.id}", rule.key, event.payload)
        pending = flow_repo.lock_pending(tx, key, function.slug, now)
        at = debounce.fire_at(pending.first_at, now, rule.period_ms, rule.timeout_ms)
        flow_repo.set_pending(tx, key, [event.internal_id], at)  # the last event replaces
        if pending.is_new:
            _queue_timer(tx, key, at, now)
        else:
            flow_repo.move_timer(tx, timer_key(key), at)
        return Collected(timer=True)
    if flow.batch is not None and batch.joins(flow.batch, event.payload):
        rule_b = flow.batch
        key = keys.scoped(f"batch:{function.id}", rule_b.key, event.payload)
        pending = flow_repo.lock_pending(tx, key, function.slug, now)
        event_ids = [*pending.event_ids, event.internal_id]
        if batch.full(len(event_ids), rule_b):
            flow_repo.delete_pending(tx, key)
            queue_repo.delete_by_dedupe_key(tx, timer_key(key))
            return Collected(start_events=event_ids)
        at = batch.flush_at(pending.first_at, rule_b)
        flow_repo.set_pending(tx, key, event_ids, at)
        if pending.is_new:
            _queue_timer(tx, key, at, now)
        return Collected(timer=pending.is_new)
    return Collected(alone=True)


def _queue_timer(tx: Tx, key: str, at: int, now: int) -> None:
    queue_repo.enqueue(
        tx,
        kind=Kind.FLOW_FIRE,
        run_id="",
        available_at=at,
        now=now,
        dedupe_key=timer_key(key),
        payload={"key": key},
    )


@dataclass(frozen=True, slots=True)
class Due:
    function_slug: str | None = None  # set when a run should start now
    event_ids: tuple[str, ...] = ()
    later: int | None = None  # the timer moved: fire again then


def take_due(tx: Tx, key: str, now: int) -> Due:
    """A timer fired: the collected events if their time has come (and forget them)."""
    pending = flow_repo.find_pending(tx, key)
    if pending is None or pending.is_new:
        return Due()
    if pending.fire_at > now:
        return Due(later=pending.fire_at)
    flow_repo.delete_pending(tx, key)
    return Due(function_slug=pending.function_slug, event_ids=tuple(pending.event_ids))
