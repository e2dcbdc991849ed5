"""Side-effect log shared by the test apps.

Every record is one JSON line appended with a single `write()` on an O_APPEND descriptor,
so concurrent step bodies cannot interleave. Fields always present: `kind`, `pid`,
`mono` (time.monotonic(), comparable across processes on one host) and `wall` (time.time()).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import inngest

T = TypeVar("T")

_PATH = os.environ.get("SIDE_EFFECT_LOG")


def record(kind: str, **fields: Any) -> None:
    """Append one JSON line to $SIDE_EFFECT_LOG (no-op when it is not set)."""
    if not _PATH:
        return
    entry = {"kind": kind, "pid": os.getpid(), "mono": time.monotonic(), "wall": time.time()}
    entry.update(fields)
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    fd = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


async def traced(
    ctx: inngest.Context, step: str, body: Callable[[], Awaitable[T]], **extra: Any
) -> T:
    """Run a step body, logging START before and END (ok or error) after it."""
    common = {
        "run_id": ctx.run_id,
        "step": step,
        "attempt": ctx.attempt,
        "exec_id": uuid.uuid4().hex,  # pairs this START with its END
        **extra,
    }
    record("START", **common)
    try:
        result = await body()
    except BaseException as exc:
        record("END", ok=False, error=f"{type(exc).__name__}: {exc}", **common)
        raise
    record("END", ok=True, **common)
    return result


async def run_step(
    ctx: inngest.Context, step: str, body: Callable[[], Awaitable[T]], **extra: Any
) -> T:
    """`ctx.step.run(step, body)` with the body traced in the side-effect log."""

    async def handler() -> T:
        return await traced(ctx, step, body, **extra)

    return await ctx.step.run(step, handler)
