"""Defers: `defer(id, {function, data})` in a TypeScript SDK (4.4+) function (pure; unit-tested).

The SDK reports a defer with the opcode `DeferAdd` (`opts: {fn_slug, input, meta?}`, id: the
hashed defer id) beside the ops of its reply or checkpoint, and takes one back with `DeferAbort`
(`opts: {target_hashed_id}`). Nothing runs then: when the run ends, however it ends, each defer
still live emits one `inngest/deferred.schedule` event, which starts the companion function made
with `createDefer` (its trigger: that event, `event.data._inngest.fn_slug == '<its slug>'`). The
event's data is the defer's input plus `_inngest` naming the parent run; its id derives from the
run and the defer, so a second emission could not start a second run either.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from mainspring.domain.ids import derived_ulid

DEFERRED_SCHEDULE = "inngest/deferred.schedule"
MAX_DEFERS_PER_RUN = 20  # Inngest's MaxDefersPerRun
MAX_INPUT_BYTES = 4 * 1024 * 1024

LIVE, ABORTED, SCHEDULED = "live", "aborted", "scheduled"


@dataclass(frozen=True, slots=True)
class DeferAdd:
    hashed_id: str
    userland_id: str | None
    fn_slug: str
    input: dict[str, Any]
    meta: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class DeferAbort:
    hashed_id: str  # the defer it aborts (`opts.target_hashed_id`)
    userland_id: str | None
    fn_slug: str


Defer = DeferAdd | DeferAbort


def _userland_id(item: dict[str, Any]) -> str | None:
    userland = item.get("userland")
    found = userland.get("id") if isinstance(userland, dict) else None
    return found if isinstance(found, str) else None


def parse(item: dict[str, Any]) -> Defer:
    """A `DeferAdd` / `DeferAbort` op of the wire; ValueError when it cannot be honoured."""
    opts = item.get("opts")
    if not isinstance(opts, dict):
        raise ValueError(f"{item.get('op')} without opts")
    fn_slug = opts.get("fn_slug")
    if item.get("op") == "DeferAbort":
        target = opts.get("target_hashed_id")
        if not isinstance(target, str) or not target:
            raise ValueError("DeferAbort without opts.target_hashed_id")
        return DeferAbort(target, _userland_id(item), fn_slug if isinstance(fn_slug, str) else "")
    hashed_id = item.get("id")
    if not isinstance(hashed_id, str) or not hashed_id:
        raise ValueError("DeferAdd without an id")
    if not isinstance(fn_slug, str) or not fn_slug:
        raise ValueError("DeferAdd without opts.fn_slug")
    data = opts.get("input")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ValueError("DeferAdd input must be a JSON object")
    meta = opts.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise ValueError("DeferAdd meta must be a JSON object")
    return DeferAdd(hashed_id, _userland_id(item), fn_slug, data, meta)


def event_id(run_id: str, hashed_id: str) -> str:
    """The schedule event's id: the run's time, entropy from (run, defer)."""
    return derived_ulid(run_id, hashlib.sha1(f"defer-event:{run_id}:{hashed_id}".encode()).digest())


def schedule_event(
    *,
    run_id: str,
    parent_slug: str,
    parent_function_id: str,
    parent_app_id: str | None,
    hashed_id: str,
    fn_slug: str,
    data: dict[str, Any],
    now: int,
) -> dict[str, Any]:
    """The `inngest/deferred.schedule` event of one live defer of a run that ended."""
    linkage = {
        "fn_slug": fn_slug,
        "parent_fn_slug": parent_slug,
        "parent_fn_id": parent_function_id,
        "parent_run_id": run_id,
        "parent_app_id": parent_app_id,
        "hashed_id": hashed_id,
    }
    return {
        "name": DEFERRED_SCHEDULE,
        "id": event_id(run_id, hashed_id),
        "data": {**data, "_inngest": linkage},
        "ts": now,
    }
