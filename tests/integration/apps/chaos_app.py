"""Test app for the chaos suite (`tests/chaos/`). App id `chaos`.

- `chaos-three` (event `chaos/three`, data `{"i": n}`): three traced steps `a`, `b`, `c`, each
  body sleeping $CHAOS_STEP_SECONDS (default 0.1 s); output `{"i": n, "results": [a<n>, b<n>,
  c<n>]}`. Many retries, so that calls refused while the app is down never exhaust them.
- `chaos-hang-once` (event `chaos/hang-once`): its step body hangs $CHAOS_HANG_SECONDS (default
  5 s, longer than the server's `--call-timeout` in the tests) on the first attempt only, then
  answers at once: the run must retry and complete.
- `chaos-hang-always` (event `chaos/hang-always`, 1 retry): the step body always hangs: the run
  must fail cleanly after its retries, never stay Running.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import run_step

client = inngest.Inngest(app_id="chaos")
STEP_SECONDS = float(os.environ.get("CHAOS_STEP_SECONDS", "0.1"))
HANG_SECONDS = float(os.environ.get("CHAOS_HANG_SECONDS", "5"))


@client.create_function(
    fn_id="three", trigger=inngest.TriggerEvent(event="chaos/three"), retries=20
)
async def three(ctx: inngest.Context) -> dict[str, Any]:
    i = int(ctx.event.data["i"])  # type: ignore[arg-type]
    results: list[str] = []
    for name in ("a", "b", "c"):

        async def body(name: str = name) -> str:
            await asyncio.sleep(STEP_SECONDS)
            return f"{name}{i}"

        results.append(await run_step(ctx, name, body))
    return {"i": i, "results": results}


@client.create_function(
    fn_id="hang-once", trigger=inngest.TriggerEvent(event="chaos/hang-once"), retries=3
)
async def hang_once(ctx: inngest.Context) -> dict[str, Any]:
    async def body() -> str:
        if ctx.attempt == 0:
            await asyncio.sleep(HANG_SECONDS)
        return f"answered on attempt {ctx.attempt}"

    return {"step": await run_step(ctx, "hang", body)}


@client.create_function(
    fn_id="hang-always", trigger=inngest.TriggerEvent(event="chaos/hang-always"), retries=1
)
async def hang_always(ctx: inngest.Context) -> dict[str, Any]:
    async def body() -> str:
        await asyncio.sleep(HANG_SECONDS)
        return "never in time"

    return {"step": await run_step(ctx, "hang", body)}


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [three, hang_once, hang_always])
