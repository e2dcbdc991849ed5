"""Kinds of queue items. Time is `available_at`; the scheduler only computes due times."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from mainspring.domain.runs import RunState


class Kind(enum.StrEnum):
    CALL = "call"  # call the SDK: discovery (step_id None) or one targeted step
    SLEEP = "sleep"  # a sleeping step wakes up: memoize null, then discovery
    PAUSE_TIMEOUT = "pause-timeout"  # a wait or invoke ran out of time: memoize its timeout value
    RUN_TIMEOUT = "run-timeout"  # `timeouts.start` / `timeouts.finish`: cancel if still due
    CRON = "cron"  # a schedule's slot: emit inngest/scheduled.timer, queue the next slot
    FLOW_FIRE = "flow-fire"  # a debounce period or batch timeout ended: start the collected run


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: str
    kind: Kind
    run_id: str
    step_id: str | None
    step_name: str | None
    attempt: int
    payload: dict[str, Any] | None = None
    # The run as read in the lease's transaction (calls and sleeps), so the executor does not
    # read it again; None: read it when the item is processed.
    state: RunState | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def is_discovery(self) -> bool:
        return self.kind is Kind.CALL and self.step_id is None


def discovery_key(run_id: str) -> str:
    """At most one discovery call per run is queued at a time."""
    return f"discovery:{run_id}"
