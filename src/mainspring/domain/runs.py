"""Runs: statuses and the run record the executor works on."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class RunStatus(enum.StrEnum):
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    SKIPPED = "Skipped"  # never started: rateLimit, idempotency or singleton `skip` (§6)

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(slots=True)
class RunState:
    """Everything needed to build the next call for a run; mutated only by the executor."""

    run_id: str
    function_id: str
    function_slug: str
    status: RunStatus
    events: list[dict[str, Any]]
    steps: dict[str, Any] = field(default_factory=dict)
    stack: list[str] = field(default_factory=list)
    force_plan: bool = False
    request_version: int = -1
    started_at: int | None = None
    start_recorded: bool = False
    # When the call being recorded went out: a wait it declares also takes the events that
    # arrived while it was in flight (`execution.recording`).
    call_started_at: int | None = None
    # Its defers by hashed id → live | aborted | scheduled (`domain.defers`): sent to the SDK,
    # and what tells a run's end whether it has schedule events to emit.
    defers: dict[str, str] = field(default_factory=dict)
    # A checkpoint this state has not seen may have carried defers: the run's end looks.
    defers_stale: bool = False
