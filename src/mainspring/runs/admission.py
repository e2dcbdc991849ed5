"""Starting a run under flow control, inside the transaction that stores its event.

The decisions are the pure functions of `mainspring.flow`; the state they need (GCRA buckets,
singleton holders) is read and locked through `store/repos/flow.py`, so two processes ingesting
events of the same key at once are serialized on that key.
Order: singleton (no state change unless the run starts), then idempotency or rateLimit (a token
is spent only by a run that starts), then throttle (a start time is reserved), then priority.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring.domain.functions import FunctionDef
from mainspring.flow import concurrency, gcra, keys, priority, rate_limit, singleton
from mainspring.store.base import Tx
from mainspring.store.repos import flow as flow_repo
from mainspring.store.repos import runs as runs_repo

IDEMPOTENCY_PERIOD_MS = 24 * 3600 * 1000


@dataclass(slots=True)
class Admission:
    function_slug: str
    available_at: int
    slots: flow_repo.Slots = ()
    skip_reason: str | None = None
    singleton_key: str | None = None
    cancel_run_id: str | None = None  # singleton `cancel`: the run this one replaces


def decide(tx: Tx, function: FunctionDef, event: dict[str, Any], now: int) -> Admission:
    flow = function.flow
    admission = Admission(function.slug, available_at=now)
    if flow.singleton is not None:
        key = keys.scoped(f"singleton:{function.id}", flow.singleton.key, event)
        holder, running = flow_repo.lock_singleton(tx, key)
        action = singleton.decide(flow.singleton.mode, running)
        if action is singleton.Action.SKIP:
            admission.skip_reason = "singleton"
            return admission
        admission.singleton_key = key
        if action is singleton.Action.CANCEL_AND_START:
            admission.cancel_run_id = holder
    if flow.idempotency:  # overrides rateLimit (§6)
        bucket = keys.scoped(f"idempotency:{function.id}", flow.idempotency, event)
        if not _spend(tx, bucket, now, 1, IDEMPOTENCY_PERIOD_MS):
            admission.skip_reason = "idempotency"
            return admission
    elif flow.rate_limit is not None:
        rule = flow.rate_limit
        bucket = keys.scoped(f"rate:{function.id}", rule.key, event)
        if not _spend(tx, bucket, now, rule.limit, rule.period_ms):
            admission.skip_reason = "rateLimit"
            return admission
    if flow.throttle is not None:
        rule_t = flow.throttle
        bucket = keys.scoped(f"throttle:{function.id}", rule_t.key, event)
        previous, _ = flow_repo.lock_bucket(tx, bucket)
        start, tat = gcra.reserve(previous, now, rule_t.limit, rule_t.period_ms, rule_t.burst)
        flow_repo.set_bucket(tx, bucket, tat=tat)
        admission.available_at = start
    if admission.available_at == now:  # a throttled start is never moved ahead of its slot
        admission.available_at = now - priority.offset_ms(flow.priority, event)
    admission.slots = concurrency.run_slots(function.id, flow.concurrency, event)
    return admission


def _spend(tx: Tx, bucket: str, now: int, limit: int, period_ms: int) -> bool:
    _, log = flow_repo.lock_bucket(tx, bucket)
    allowed, kept = rate_limit.allow(log, now, limit, period_ms)
    if allowed:
        flow_repo.set_bucket(tx, bucket, log=kept)
    return allowed


def skip(tx: Tx, function: FunctionDef, event_internal_id: str, reason: str, now: int) -> str:
    """Record the run that was not started, with its reason (read API: status Skipped)."""
    run_id = flow_repo.insert_skipped_run(
        tx,
        function_id=function.id,
        function_slug=function.slug,
        event_internal_id=event_internal_id,
        reason=reason,
        now=now,
    )
    runs_repo.add_history(tx, run_id, now, "run.skipped", data={"reason": reason})
    return run_id


def place(tx: Tx, run_id: str, admission: Admission, now: int) -> None:
    """Apply the decision to the run just created: keys, first call's time, singleton holder."""
    if admission.slots:
        flow_repo.set_run_slots(tx, run_id, admission.slots, admission.function_slug)
    if admission.slots or admission.available_at != now:
        flow_repo.place_discovery(
            tx, run_id, admission.available_at, admission.slots, admission.function_slug
        )
    if admission.singleton_key is not None:
        flow_repo.set_singleton(tx, admission.singleton_key, run_id)
