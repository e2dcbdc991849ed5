"""Test app (official Python SDK, FastAPI) for the dashboard's charts: one steady function and
one whose `charge` step fails every other run (odd `n`, no retries). App id `charts`, so slugs
are `charts-steady` and `charts-flaky`."""

from __future__ import annotations

import asyncio
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import run_step

client = inngest.Inngest(app_id="charts")
SLOW_STEP_S = 1.5  # `transform` is the steady function's slow step


@client.create_function(fn_id="steady", trigger=inngest.TriggerEvent(event="charts/steady"))
async def steady(ctx: inngest.Context) -> dict[str, Any]:
    n = int(ctx.event.data["n"])  # type: ignore[arg-type]

    async def load() -> int:
        return n

    async def transform() -> int:
        await asyncio.sleep(SLOW_STEP_S)
        return n * 2

    loaded = await run_step(ctx, "load", load)
    return {"value": await run_step(ctx, "transform", transform) + loaded}


@client.create_function(
    fn_id="flaky", retries=0, trigger=inngest.TriggerEvent(event="charts/flaky")
)
async def flaky(ctx: inngest.Context) -> dict[str, Any]:
    n = int(ctx.event.data["n"])  # type: ignore[arg-type]

    async def prepare() -> int:
        return n

    async def charge() -> int:
        if n % 2:
            raise ValueError(f"card declined for order {n}")
        return n

    await run_step(ctx, "prepare", prepare)
    return {"charged": await run_step(ctx, "charge", charge)}


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [steady, flaky])
