"""Test app for the chaos suite (`tests/chaos/`). App id `chaos`.

- `chaos-three` (event `chaos/three`, data `{"i": n}`): three traced steps `a`, `b`, `c`, each
  body sleeping $CHAOS_STEP_SECONDS (default 0.1 s); output `{"i": n, "results": [a<n>, b<n>,
  c<n>]}`. Many retries, so that calls refused while the app is down never exhaust them.
- `chaos-hang-once` (event `chaos/hang-once`): its step body hangs $CHAOS_HANG_SECONDS (default
  5 s, longer than the server's `--call-timeout` in the tests) on the first attempt only, then
  answers at once: the run must retry and complete.
- `chaos-sleep`, `chaos-wait`, `chaos-fanout` (+ `chaos-child`): the soak's other shapes
  (`bench/soak.py`): a 2 s sleep between two steps; a wait for `chaos/go` with the same `i`
  (60 s timeout) before a step; a step sending three `chaos/child` events, each a one-step run.
- `chaos-hang-always` (event `chaos/hang-always`, 1 retry): the step body always hangs: the run
  must fail cleanly after its retries, never stay Running.
"""

from __future__ import annotations

import asyncio
import datetime
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


async def quick(ctx: inngest.Context, step: str, value: str) -> str:
    async def body() -> str:
        return value

    return await run_step(ctx, step, body)


@client.create_function(
    fn_id="sleep", trigger=inngest.TriggerEvent(event="chaos/sleep"), retries=20
)
async def sleeper(ctx: inngest.Context) -> dict[str, Any]:
    i = int(ctx.event.data["i"])  # type: ignore[arg-type]
    await quick(ctx, "before", f"b{i}")
    await ctx.step.sleep("nap", datetime.timedelta(seconds=2))
    return {"i": i, "after": await quick(ctx, "after", f"a{i}")}


@client.create_function(fn_id="wait", trigger=inngest.TriggerEvent(event="chaos/wait"), retries=20)
async def waiter(ctx: inngest.Context) -> dict[str, Any]:
    i = int(ctx.event.data["i"])  # type: ignore[arg-type]
    got = await ctx.step.wait_for_event(
        "go",
        event="chaos/go",
        if_exp="async.data.i == event.data.i",
        timeout=datetime.timedelta(seconds=60),
    )
    return {"i": i, "got": got is not None, "done": await quick(ctx, "done", f"w{i}")}


@client.create_function(
    fn_id="fanout", trigger=inngest.TriggerEvent(event="chaos/fanout"), retries=20
)
async def fanout(ctx: inngest.Context) -> dict[str, Any]:
    i = int(ctx.event.data["i"])  # type: ignore[arg-type]
    children = [inngest.Event(name="chaos/child", data={"parent": i, "k": k}) for k in range(3)]
    ids = await ctx.step.send_event("fan", children)
    return {"i": i, "children": len(ids)}


@client.create_function(
    fn_id="child", trigger=inngest.TriggerEvent(event="chaos/child"), retries=20
)
async def child(ctx: inngest.Context) -> dict[str, Any]:
    data = ctx.event.data
    return {"child": await quick(ctx, "work", f"{data['parent']}/{data['k']}")}


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [three, hang_once, hang_always, sleeper, waiter, fanout, child])
