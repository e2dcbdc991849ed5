"""batchEvents: one run per `max_size` events per key, or when `timeout` has passed since the
first; an event for which `if` is false runs alone at once."""

from __future__ import annotations

from typing import Any

import celpy

from mainspring import expressions
from mainspring.domain.flow import Batch


def joins(batch: Batch, event: dict[str, Any]) -> bool:
    """Whether the event waits for a batch (else it starts a run of its own now). Only a plain
    `false` keeps it out: an expression that cannot be evaluated (a missing field) batches."""
    if batch.condition is None:
        return True
    result = expressions.evaluate(batch.condition, {"event": event})
    return not (isinstance(result, celpy.celtypes.BoolType) and not bool(result))


def full(size: int, batch: Batch) -> bool:
    return size >= batch.max_size


def flush_at(first_at: int, batch: Batch) -> int:
    return first_at + batch.timeout_ms
