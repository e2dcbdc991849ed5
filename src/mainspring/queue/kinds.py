"""Kinds of queue items. Time is `available_at`; the scheduler only computes due times."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.StrEnum):
    CALL = "call"  # call the SDK: discovery (step_id None) or one targeted step
    SLEEP = "sleep"  # a sleeping step wakes up: memoize null, then discovery


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: str
    kind: Kind
    run_id: str
    step_id: str | None
    step_name: str | None
    attempt: int

    @property
    def is_discovery(self) -> bool:
        return self.kind is Kind.CALL and self.step_id is None


def discovery_key(run_id: str) -> str:
    """At most one discovery call per run is queued at a time."""
    return f"discovery:{run_id}"
