"""Test app for the `mainspring` client commands (tests/cli/test_client_commands.py). App id
`cli`, so slugs are `cli-<fn id>`.

- `cli-daily`: cron `0 6 * * *` (never due in a test); `invoke` runs it now; returns its data.
- `cli-steps` (`cli/steps`): steps `fetch` then `save`; returns `{"saved": n}`.
- `cli-fails` (`cli/fails`): no retries; fails until `<side-effect log>.fixed` exists.
- `cli-slow` (`cli/slow`): step `first`, then sleeps 10 minutes (a run to cancel).
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import record

client = inngest.Inngest(app_id="cli")


@client.create_function(fn_id="daily", trigger=inngest.TriggerCron(cron="0 6 * * *"))
async def daily(ctx: inngest.Context) -> dict[str, Any]:
    record("DAILY", run_id=ctx.run_id)
    return {"data": dict(ctx.event.data)}


@client.create_function(fn_id="steps", trigger=inngest.TriggerEvent(event="cli/steps"))
async def steps(ctx: inngest.Context) -> dict[str, Any]:
    async def fetch() -> Any:
        return ctx.event.data.get("n", 0)

    async def save() -> str:
        record("SAVE", run_id=ctx.run_id)
        return "saved"

    n = await ctx.step.run("fetch", fetch)
    await ctx.step.run("save", save)
    return {"saved": n}


@client.create_function(fn_id="fails", retries=0, trigger=inngest.TriggerEvent(event="cli/fails"))
async def fails(ctx: inngest.Context) -> str:
    if os.path.exists(os.environ.get("SIDE_EFFECT_LOG", "") + ".fixed"):  # noqa: ASYNC240
        return "fixed"
    raise inngest.NonRetriableError("always fails")


@client.create_function(fn_id="slow", trigger=inngest.TriggerEvent(event="cli/slow"))
async def slow(ctx: inngest.Context) -> str:
    async def first() -> str:
        return "first"

    await ctx.step.run("first", first)
    await ctx.step.sleep("nap", datetime.timedelta(minutes=10))
    return "woke"


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [daily, steps, fails, slow])
