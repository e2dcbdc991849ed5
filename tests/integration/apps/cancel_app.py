"""Test app for cancellation and function timeouts. App id `cancel`.

- `cancel-sleepy` (event `cancel/start`): step `before`, sleep `nap` 60 s, step `after`;
  cancelled by `cancel/stop` when `event.data.id == async.data.id`.
- `cancel-bulk` (event `cancel/bulk`): the same shape without a cancel rule.
- `cancel-inflight` (event `cancel/inflight`): step `slow` whose body sleeps 1.5 s, then `after`.
- `cancel-deadline` (event `cancel/deadline`): `timeouts.finish = 2 s`; step `before`, sleep
  `nap` 30 s, step `after`.
- `cancel-quick` (event `cancel/quick`): returns "done" at once.

Every SDK call logs `CALL` (function level), step bodies log START/END (sidefx.run_step).
"""

from __future__ import annotations

import asyncio
import datetime

import fastapi
import inngest
import inngest.fast_api
from sidefx import record, run_step

client = inngest.Inngest(app_id="cancel")
SLOW_STEP_SECONDS = 1.5


async def nap_flow(ctx: inngest.Context, fn: str, nap_seconds: int) -> str:
    record("CALL", run_id=ctx.run_id, fn=fn, attempt=ctx.attempt)

    async def before() -> str:
        return "before"

    await run_step(ctx, "before", before)
    await ctx.step.sleep("nap", datetime.timedelta(seconds=nap_seconds))

    async def after() -> str:
        return "after"

    return await run_step(ctx, "after", after)


@client.create_function(
    fn_id="sleepy",
    cancel=[inngest.Cancel(event="cancel/stop", if_exp="event.data.id == async.data.id")],
    trigger=inngest.TriggerEvent(event="cancel/start"),
)
async def sleepy(ctx: inngest.Context) -> str:
    return await nap_flow(ctx, "sleepy", 60)


@client.create_function(fn_id="bulk", trigger=inngest.TriggerEvent(event="cancel/bulk"))
async def bulk(ctx: inngest.Context) -> str:
    return await nap_flow(ctx, "bulk", 60)


@client.create_function(fn_id="inflight", trigger=inngest.TriggerEvent(event="cancel/inflight"))
async def inflight(ctx: inngest.Context) -> str:
    record("CALL", run_id=ctx.run_id, fn="inflight", attempt=ctx.attempt)

    async def slow() -> str:
        await asyncio.sleep(SLOW_STEP_SECONDS)
        return "slow done"

    await run_step(ctx, "slow", slow)

    async def after() -> str:
        return "after"

    return await run_step(ctx, "after", after)


@client.create_function(
    fn_id="deadline",
    timeouts=inngest.Timeouts(finish=datetime.timedelta(seconds=2)),
    trigger=inngest.TriggerEvent(event="cancel/deadline"),
)
async def deadline(ctx: inngest.Context) -> str:
    return await nap_flow(ctx, "deadline", 30)


@client.create_function(fn_id="quick", trigger=inngest.TriggerEvent(event="cancel/quick"))
async def quick(ctx: inngest.Context) -> str:
    return "done"


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [sleepy, bulk, inflight, deadline, quick])
