"""A Connect worker (official Python SDK, `inngest.connect`): no HTTP server, it dials in.
App id `cw` (or `$CONNECT_APP_ID`), so slugs are `cw-<fn id>` and events `cw/<fn id>`.

Run: `INNGEST_DEV=1 INNGEST_BASE_URL=http://127.0.0.1:<server port> SIDE_EFFECT_LOG=<file>
python tests/integration/apps/connect_worker.py <instance id>`.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
from typing import Any

import inngest
from inngest.connect import connect
from sidefx import record, run_step

APP_ID = os.environ.get("CONNECT_APP_ID", "cw")
client = inngest.Inngest(app_id=APP_ID)
INSTANCE = sys.argv[1] if len(sys.argv) > 1 else f"worker-{os.getpid()}"


@client.create_function(fn_id="chain", trigger=inngest.TriggerEvent(event=f"{APP_ID}/chain"))
async def chain(ctx: inngest.Context) -> dict[str, Any]:
    n = int(ctx.event.data["n"])  # type: ignore[arg-type]

    async def one() -> int:
        return n + 1

    first = await run_step(ctx, "one", one)

    async def two() -> int:
        return first * 10

    second = await run_step(ctx, "two", two)

    async def three() -> dict[str, Any]:
        return {"total": second + 5}

    return await run_step(ctx, "three", three)


@client.create_function(
    fn_id="flaky", retries=2, trigger=inngest.TriggerEvent(event=f"{APP_ID}/flaky")
)
async def flaky(ctx: inngest.Context) -> dict[str, Any]:
    async def wobbly() -> int:
        if ctx.attempt < 1:
            raise RuntimeError(f"attempt {ctx.attempt} fails")
        return ctx.attempt

    return {"attempt": await run_step(ctx, "wobbly", wobbly)}


@client.create_function(fn_id="sleeper", trigger=inngest.TriggerEvent(event=f"{APP_ID}/sleeper"))
async def sleeper(ctx: inngest.Context) -> str:
    await ctx.step.sleep("nap", datetime.timedelta(seconds=1))

    async def after() -> str:
        return "woke"

    return await run_step(ctx, "after", after)


@client.create_function(fn_id="parallel", trigger=inngest.TriggerEvent(event=f"{APP_ID}/parallel"))
async def parallel(ctx: inngest.Context) -> int:
    def leg(name: str, value: int) -> Any:
        async def body() -> int:
            return value

        async def call() -> int:
            return await run_step(ctx, name, body)

        return call

    outputs = await ctx.group.parallel((leg("p1", 1), leg("p2", 2), leg("p3", 3)))
    return sum(outputs)


@client.create_function(fn_id="slow", trigger=inngest.TriggerEvent(event=f"{APP_ID}/slow"))
async def slow(ctx: inngest.Context) -> str:
    """Its step takes `hold_s` seconds: a test kills the worker meanwhile."""
    hold_s = float(ctx.event.data["hold_s"])  # type: ignore[arg-type]

    async def hold() -> int:
        record("slow-started", run_id=ctx.run_id, instance=INSTANCE)
        await asyncio.sleep(hold_s)
        return os.getpid()

    pid = await run_step(ctx, "hold", hold)
    return f"done by {pid}"


async def main() -> None:
    connection = connect([(client, [chain, flaky, sleeper, parallel, slow])], instance_id=INSTANCE)
    await connection.start()


if __name__ == "__main__":
    asyncio.run(main())
