"""A run's trace as a tree of spans, the shape of Inngest's `run { trace(preview: true) }`
(pure; unit-tested).

Read from the same pass over the history as the REST trace and the dashboard's timeline
(`reads.trace.read`), so the three cannot disagree. Under the run: one span per step in the
order the steps started, then, once the run has ended, one `Finalization` span for the call
that returned (or threw) the function's result. A step that needed more than one attempt, or
failed, has one child per attempt (`Attempt 0`, `Attempt 1`, ...), as Inngest's UI groups
retries. `attempts` is the number of the last attempt, counted from 0, as Inngest reports it.

Output ids name what `runTraceSpanOutputByID` answers: `<run>` for the run's result,
`<run>:<step>` for a step's memoized result, `<run>:<step>@<n>` for the error of a step's
failed attempt `n`, `<run>@<n>` for the error of the function's own failed attempt `n`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mainspring.reads.trace import Attempt, TimelineStep, read

FINALIZATION = "Finalization"

# Our memoized ops → Inngest's StepOp; anything else a step runs is RUN.
_OP_OF_MEMO = {
    "InvokeFunction": "INVOKE",
    "Sleep": "SLEEP",
    "WaitForEvent": "WAIT_FOR_EVENT",
    "WaitForSignal": "WAIT_FOR_SIGNAL",
    "AIGateway": "AI_GATEWAY",
    "Gateway": "AI_GATEWAY",
}
_OP_OF_KIND = {
    "step": "RUN",
    "sleep": "SLEEP",
    "wait": "WAIT_FOR_EVENT",
    "invoke": "INVOKE",
    "request": "AI_GATEWAY",
    "signal": "WAIT_FOR_SIGNAL",
}
# A step still in progress: Inngest's RunTraceSpanStatus for our timeline status.
_OPEN_STATUS = {"sleeping": "WAITING", "waiting": "WAITING"}
_RUN_STATUS = {
    "Scheduled": "QUEUED",
    "Running": "RUNNING",
    "Completed": "COMPLETED",
    "Failed": "FAILED",
    "Cancelled": "CANCELLED",
    "Skipped": "SKIPPED",
}
_ENDED = ("Completed", "Failed")


@dataclass(slots=True)
class Span:
    span_id: str
    name: str
    status: str  # Inngest's RunTraceSpanStatus
    attempts: int  # the last attempt's number, from 0
    output_id: str | None
    started_at: int | None
    ended_at: int | None
    op: str | None = None  # Inngest's StepOp; None for the run and its finalization
    step_id: str | None = None
    kind: str = "step"  # run | step | attempt | finalization
    detail: dict[str, Any] = field(default_factory=dict)
    children: list[Span] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)  # SpanMetadata's shape

    @property
    def step_type(self) -> str:
        """Inngest's `stepType`: the op, or `FINALIZATION`; empty for the run itself."""
        if self.kind == "finalization":
            return FINALIZATION.upper()
        return self.op or ""

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


def run_status(status: str) -> str:
    return _RUN_STATUS.get(status, "RUNNING")


def tree(
    run: dict[str, Any],
    name: str,
    history: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    *,
    started_at: int | None,
    ended_at: int | None,
    metadata: list[dict[str, Any]] | None = None,
) -> Span:
    """The run's span with its steps and, once it has ended, its finalization. `metadata`:
    the run's (`reads.sdk_data.metadata_views`), on the run's span and on its steps'."""
    run_id = str(run["run_id"])
    found, run_errors = read(history, steps)
    children = [_step_span(run_id, step) for step in sorted(found.values(), key=_start)]
    for child in children:
        child.metadata = _metadata(metadata, child.step_id)
    status = str(run["status"])
    if status in _ENDED:
        last = max([entry["at"] for entry in history], default=started_at)
        children.append(_finalization(run_id, run_status(status), run_errors, last, ended_at))
    return Span(
        span_id=run_id,
        name=name,
        status=run_status(status),
        attempts=0,
        output_id=run_id if status in _ENDED else None,
        started_at=started_at,
        ended_at=ended_at,
        kind="run",
        children=children,
        metadata=_metadata(metadata, None),
    )


def _metadata(entries: list[dict[str, Any]] | None, step_id: str | None) -> list[dict[str, Any]]:
    """Inngest's `SpanMetadata` ({scope, kind, values, updatedAt}) of the run or one step."""
    return [
        {
            "scope": entry["scope"],
            "kind": entry["kind"],
            "values": entry["values"],
            "updatedAt": entry["updated_at"],
        }
        for entry in entries or ()
        if entry["step_id"] == step_id
    ]


def _start(step: TimelineStep) -> int:
    return step.start


def step_output_id(run_id: str, step_id: str, attempt: int | None = None) -> str:
    base = f"{run_id}:{step_id}"
    return base if attempt is None else f"{base}@{attempt}"


def _step_span(run_id: str, step: TimelineStep) -> Span:
    memo = step.memo
    op = _OP_OF_MEMO.get(str(memo["op"])) if memo else None
    span = Span(
        span_id=step_output_id(run_id, step.step_id),
        name=step.name,
        status=_step_status(step),
        attempts=_last_attempt(step),
        output_id=step_output_id(run_id, step.step_id) if memo else None,
        started_at=step.start,
        ended_at=step.end if memo else None,
        op=op or _OP_OF_KIND.get(step.kind, "RUN"),
        step_id=step.step_id,
        detail=step.detail,
    )
    if len(step.attempts) > 0:
        span.children = _attempt_spans(
            run_id, span, step.attempts, failed=memo is not None and step.error is not None
        )
    return span


def _step_status(step: TimelineStep) -> str:
    if step.memo is not None:
        return "FAILED" if step.error is not None else "COMPLETED"
    return _OPEN_STATUS.get(step.status, "RUNNING")


def _last_attempt(step: TimelineStep) -> int:
    if step.memo is not None:
        return max(int(step.memo["attempts"]) - 1, len(step.attempts) - 1, 0)
    return len(step.attempts)  # the attempt now queued or running


def _attempt_spans(run_id: str, parent: Span, errors: list[Attempt], *, failed: bool) -> list[Span]:
    """One span per attempt: the failed ones from their errors, then the last one, which is
    the step's own result (its error when the step failed, so `errors` already holds it)."""
    spans = []
    begin = parent.started_at
    for index, attempt in enumerate(errors):
        last_and_final = failed and index == len(errors) - 1
        output_id = parent.output_id if last_and_final else f"{parent.span_id}@{attempt.number - 1}"
        spans.append(_attempt(parent, attempt.number - 1, "FAILED", output_id, begin, attempt.at))
        begin = attempt.at
    if not failed:
        number = max(parent.attempts, len(errors))
        spans.append(
            _attempt(parent, number, parent.status, parent.output_id, begin, parent.ended_at)
        )
    return spans


def _attempt(
    parent: Span,
    number: int,
    status: str,
    output_id: str | None,
    started_at: int | None,
    ended_at: int | None,
) -> Span:
    return Span(
        span_id=f"{parent.span_id}@{number}",
        name=f"Attempt {number}",
        status=status,
        attempts=number,
        output_id=output_id,
        started_at=started_at,
        ended_at=ended_at,
        op=parent.op,
        step_id=parent.step_id,
        kind="attempt",
    )


def _finalization(
    run_id: str, status: str, errors: list[Attempt], started_at: int | None, ended_at: int | None
) -> Span:
    """The call that returned the function's result; its failed attempts as children."""
    span = Span(
        span_id=f"{run_id}:finalization",
        name=FINALIZATION,
        status=status,
        attempts=len(errors),
        output_id=run_id,
        started_at=started_at,
        ended_at=ended_at,
        kind="finalization",
    )
    if errors:
        begin = started_at
        for attempt in errors:
            number = attempt.number - 1
            span.children.append(
                _attempt(span, number, "FAILED", f"{run_id}@{number}", begin, attempt.at)
            )
            begin = attempt.at
        span.children.append(_attempt(span, len(errors), status, run_id, begin, ended_at))
    return span
