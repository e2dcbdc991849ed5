"""Invoking one function from outside (REST `POST /invoke/{slug}`, GraphQL `invokeFunction`,
the dashboard's form): its event stored and the invoke recorded in the audit log, together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mainspring import audit
from mainspring.domain.functions import Functions
from mainspring.ingest.accept import emit_unit, invoke_event
from mainspring.runs.transitions import Effects
from mainspring.store.base import Tx


def invoke_unit(
    slug: str,
    data: dict[str, Any],
    user: dict[str, Any] | None,
    functions: Functions,
    now: int,
) -> Callable[[Tx, Effects], list[str]]:
    """A unit storing the `inngest/function.invoked` event for `slug`; returns its ids. The
    actor is read now, in the caller's request."""
    emit = emit_unit([invoke_event(slug, data, user)], functions, now)
    actor = audit.current()

    def unit(tx: Tx, effects: Effects) -> list[str]:
        ids = emit(tx, effects)
        audit.record(  # the data stays with the event; the entry points to it
            tx,
            actor,
            "function.invoke",
            at=now,
            target_kind="function",
            target_id=slug,
            details={"event_ids": ids},
        )
        return ids

    return unit
