"""Test app for crash recovery and graceful shutdown. App id `dur`.

- `dur-three-steps` (event `dur/three`): three steps whose bodies each sleep 0.2 s.
- `dur-slow-step` (event `dur/slow`): one step sleeping 1.5 s in its body, then a quick step.
"""

from __future__ import annotations

import asyncio
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import run_step

client = inngest.Inngest(app_id="dur")
STEP_SECONDS = 0.2
SLOW_STEP_SECONDS = 1.5


@client.create_function(fn_id="three-steps", trigger=inngest.TriggerEvent(event="dur/three"))
async def three_steps(ctx: inngest.Context) -> dict[str, Any]:
    i = int(ctx.event.data["i"])  # type: ignore[arg-type]
    results: list[str] = []
    for name in ("a", "b", "c"):

        async def body(name: str = name) -> str:
            await asyncio.sleep(STEP_SECONDS)
            return f"{name}{i}"

        results.append(await run_step(ctx, name, body))
    return {"i": i, "results": results}


@client.create_function(fn_id="slow-step", trigger=inngest.TriggerEvent(event="dur/slow"))
async def slow_step(ctx: inngest.Context) -> dict[str, Any]:
    async def slow() -> str:
        await asyncio.sleep(SLOW_STEP_SECONDS)
        return "slow done"

    first = await run_step(ctx, "slow", slow)

    async def after() -> str:
        return "after done"

    second = await run_step(ctx, "after", after)
    return {"slow": first, "after": second}


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [three_steps, slow_step])
