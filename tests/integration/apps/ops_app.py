"""Test app (official Python SDK, FastAPI) for operations: pause / resume, kill switch,
reruns and bulk replays. App id `ops`, so slugs are `ops-<fn id>`."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import record, run_step

client = inngest.Inngest(app_id="ops")


@client.create_function(fn_id="steps", trigger=inngest.TriggerEvent(event="ops/steps"))
async def steps(ctx: inngest.Context) -> dict[str, Any]:
    """Three steps; the second takes a while, so a pause can land while it runs."""
    record("CALL", run_id=ctx.run_id)

    async def one() -> int:
        return 1

    async def two() -> int:
        await asyncio.sleep(float(ctx.event.data.get("slow", 1.5)))  # type: ignore[arg-type]
        return 2

    async def three() -> int:
        return 3

    total = await run_step(ctx, "one", one)
    total += await run_step(ctx, "two", two)
    total += await run_step(ctx, "three", three)
    return {"total": total}


@client.create_function(fn_id="quick", trigger=inngest.TriggerEvent(event="ops/quick"))
async def quick(ctx: inngest.Context) -> dict[str, Any]:
    record("CALL", run_id=ctx.run_id)

    async def only() -> Any:
        return ctx.event.data.get("n")

    return {"n": await run_step(ctx, "only", only)}


@client.create_function(fn_id="fails", retries=0, trigger=inngest.TriggerEvent(event="ops/fails"))
async def fails(ctx: inngest.Context) -> str:
    """Fails until the test "fixes the bug" by creating `<side-effect log>.fixed`."""
    record("CALL", run_id=ctx.run_id)
    if os.path.exists(os.environ.get("SIDE_EFFECT_LOG", "") + ".fixed"):  # noqa: ASYNC240
        return "fixed"
    raise inngest.NonRetriableError("always fails")


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [steps, quick, fails])
