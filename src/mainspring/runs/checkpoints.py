"""TypeScript SDK v4 async checkpointing: steps it reports during a call, stored as if returned."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mainspring.domain.runs import RunStatus
from mainspring.protocol import opcodes, sidecar
from mainspring.protocol.sidecar import Sidecar
from mainspring.runs import sidecar as run_sidecar
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import runs as runs_repo

# SDKs that checkpoint steps during a call (TS v4 does when `ctx.fn_id` is sent; SDK_BEHAVIOUR §4).
SDKS_THAT_CHECKPOINT = ("inngest-js:",)


def may_have_checkpointed(sdk: str, attempt: int, targeted: bool, planning: bool) -> bool:
    """Could the SDK have POSTed steps to `/v1/checkpoint` during this call? Only on a first
    attempt of an untargeted call that may run steps at once."""
    return sdk.startswith(SDKS_THAT_CHECKPOINT) and attempt == 0 and not targeted and not planning


class CheckpointLog:
    """Counts checkpoints per run, so an executor holding a run knows to re-read its steps.

    In-process only: with several processes on one database the SDK may send a checkpoint to
    another process than the one calling it; the executor then asks the database instead
    (`may_have_checkpointed`)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._defers: Counter[str] = Counter()  # of those, the ones that carried defers
        # the memos saved during a call this process is making, so the executor adds them to
        # its state instead of re-reading it; kept only between `expect` and `take_steps`, so
        # checkpoints of runs driven elsewhere (or late ones) hold no step outputs in memory
        self._steps: dict[str, list[tuple[str, Any]]] = {}

    def expect(self, run_id: str) -> None:
        """A call of `run_id` is about to go out from this process: keep what it checkpoints."""
        self._steps.setdefault(run_id, [])

    def bump(
        self, run_id: str, *, defers: bool = False, steps: list[tuple[str, Any]] | None = None
    ) -> None:
        self._counts[run_id] += 1
        if defers:
            self._defers[run_id] += 1
        expected = self._steps.get(run_id)
        if steps and expected is not None:
            expected.extend(steps)

    def take_steps(self, run_id: str) -> list[tuple[str, Any]]:
        """(step id, memo) of the steps checkpointed since `expect`, in order."""
        return self._steps.pop(run_id, [])

    def count(self, run_id: str) -> int:
        return self._counts.get(run_id, 0)

    def defer_count(self, run_id: str) -> int:
        return self._defers.get(run_id, 0)

    def forget(self, run_id: str) -> None:
        self._counts.pop(run_id, None)
        self._defers.pop(run_id, None)
        self._steps.pop(run_id, None)


def memo_of(op: opcodes.Op) -> dict[str, Any]:
    return {"error": op.error} if op.op == "StepFailed" else {"data": op.data}


def save_checkpoint(
    tx: Tx, run_id: str, ops: list[opcodes.Op], now: int, riders: Sidecar = sidecar.NONE
) -> bool:
    """Memoize each finished step (and record the defers and metadata beside them); False when
    the run is not running (the SDK should stop)."""
    if runs_repo.status(tx, run_id) != RunStatus.RUNNING:
        return False
    if riders:
        run_sidecar.record(tx, run_id, riders, now)
    for op in ops:
        if op.op not in opcodes.SAVED_OPS:
            continue
        runs_repo.save_step(
            tx,
            run_id,
            step_id=op.id,
            name=op.display_name,
            op=op.op,
            memo=memo_of(op),
            attempts=1,
            now=now,
            history_kind="step.completed",
            history_attempt=0,
            history_data={"checkpointed": True, **(opcodes.step_detail(op) or {})},
        )
    return True


async def checkpoint(
    connector: Connector, log: CheckpointLog, run_id: str, body: Any, now: int
) -> bool:
    steps = body.get("steps") if isinstance(body, dict) else None
    items = steps if isinstance(steps, list) else []
    ops, riders = opcodes.parse_ops(items), sidecar.from_ops(items)
    accepted: bool = await connector.write(lambda tx: save_checkpoint(tx, run_id, ops, now, riders))
    saved = [(op.id, memo_of(op)) for op in ops if op.op in opcodes.SAVED_OPS] if accepted else []
    log.bump(run_id, defers=bool(riders.defers), steps=saved)
    return accepted
