"""Production-mode test app (official Python SDK in cloud mode: INNGEST_DEV=0 and a signing key).

App id `prod`. `chain` carries floats and non-ASCII text (the signature covers the JCS form);
`bulky` builds state larger than the server's --state-limit so the SDK fetches it through
`/v0/runs/…` with its bearer token; `sleeper` spans a key rotation; `huge` and `slow`
answer past the server's reply size cap and call timeout.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import run_step

client = inngest.Inngest(app_id="prod")


@client.create_function(fn_id="chain", trigger=inngest.TriggerEvent(event="prod/chain"))
async def chain(ctx: inngest.Context) -> dict[str, Any]:
    async def one() -> dict[str, Any]:
        return {"ratio": 0.1 + 0.2, "text": "déjà vu ✓", "n": ctx.event.data.get("n", 0)}

    first = await run_step(ctx, "one", one)

    async def two() -> float:
        return float(first["ratio"]) * 3

    second = await run_step(ctx, "two", two)
    return {"first": first, "second": second}


@client.create_function(fn_id="bulky", trigger=inngest.TriggerEvent(event="prod/bulky"))
async def bulky(ctx: inngest.Context) -> int:
    total = 0
    for index in range(3):

        async def body(index: int = index) -> str:
            return str(index) * 2000

        total += len(await run_step(ctx, "part", body, index=index))
    return total


@client.create_function(fn_id="sleeper", trigger=inngest.TriggerEvent(event="prod/sleep"))
async def sleeper(ctx: inngest.Context) -> str:
    async def before() -> str:
        return "before"

    await run_step(ctx, "before", before)
    seconds = float(ctx.event.data.get("seconds", 1))  # type: ignore[arg-type]
    await ctx.step.sleep("nap", datetime.timedelta(seconds=seconds))

    async def after() -> str:
        return "after"

    return await run_step(ctx, "after", after)


@client.create_function(fn_id="huge", retries=1, trigger=inngest.TriggerEvent(event="prod/huge"))
async def huge(ctx: inngest.Context) -> str:
    return "x" * int(ctx.event.data.get("size", 200_000))  # type: ignore[arg-type]


@client.create_function(fn_id="slow", retries=1, trigger=inngest.TriggerEvent(event="prod/slow"))
async def slow(ctx: inngest.Context) -> str:
    await asyncio.sleep(float(ctx.event.data.get("seconds", 3)))  # type: ignore[arg-type]
    return "late"


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [chain, bulky, sleeper, huge, slow])
