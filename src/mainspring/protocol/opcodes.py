"""The opcodes an SDK answers with, as parsed from the wire (the decisions are execution's)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

# Opcodes that carry nothing for the server to do.
IGNORED_OPS = frozenset({"None", "DeferAdd", "DeferAbort"})
# Opcodes of a finished step: their data or error is memoized as the step's result.
SAVED_OPS = frozenset({"StepRun", "Step", "StepFailed"})
# The op id the SDKs give the function's own result or error (`hashId("complete")`): the TS SDK
# sends the run's error as [DeferAdd…, StepError|StepFailed] with it, and a durable endpoint's
# checkpoint ends with it. It is the run's outcome, not a step's.
RUN_COMPLETE_ID = hashlib.sha1(b"complete").hexdigest()
FUNCTION_ERROR_OPS = frozenset({"StepError", "StepFailed"})


@dataclass(frozen=True, slots=True)
class Op:
    op: str
    id: str
    name: str | None
    display_name: str | None
    data: Any
    error: Any
    opts: dict[str, Any]


def parse_ops(body: Any) -> list[Op]:
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    ops = []
    for item in items:
        if not isinstance(item, dict) or item.get("op") in IGNORED_OPS:
            continue
        opts = item.get("opts")
        ops.append(
            Op(
                op=str(item.get("op")),
                id=str(item.get("id", "")),
                name=item.get("name"),
                display_name=item.get("displayName") or item.get("name"),
                data=item.get("data"),
                error=item.get("error"),
                opts=opts if isinstance(opts, dict) else {},
            )
        )
    return ops


def step_detail(op: Op) -> dict[str, Any] | None:
    """What a finished step's opts say beyond its result: its `type` (`step.ai.wrap`,
    `step.sendEvent`…) and the `input` it ran with (TS `step.ai.wrap`, `step.run` arguments).
    Kept in history only: an `input` in a memoized step would make the TS SDK run it again."""
    detail: dict[str, Any] = {k: op.opts[k] for k in ("type", "input") if k in op.opts}
    return detail or None
