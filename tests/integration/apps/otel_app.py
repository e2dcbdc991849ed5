"""Test app for the OpenTelemetry export (issue 18). App id `otel`.

- `otel-traced` (event `otel/go`): step `one` returns 1; step `flaky` raises on its first
  attempt and returns 2 on the second; step `call-child` invokes `otel-child` with x=21; the
  run returns the sum.
- `otel-child`: step `double` returns x * 2.
- `otel-fails` (event `otel/fail`): step `doomed` raises NonRetriableError (the run fails).
"""

from __future__ import annotations

from typing import Any

import fastapi
import inngest
import inngest.fast_api

client = inngest.Inngest(app_id="otel")


@client.create_function(fn_id="child", retries=0, trigger=inngest.TriggerEvent(event="otel/child"))
async def child(ctx: inngest.Context) -> int:
    async def double() -> int:
        return int(ctx.event.data["x"]) * 2  # type: ignore[arg-type]

    return await ctx.step.run("double", double)


@client.create_function(fn_id="traced", retries=2, trigger=inngest.TriggerEvent(event="otel/go"))
async def traced(ctx: inngest.Context) -> dict[str, Any]:
    async def one() -> int:
        return 1

    async def flaky() -> int:
        if ctx.attempt == 0:
            raise RuntimeError("flaky once")
        return 2

    first = await ctx.step.run("one", one)
    second = await ctx.step.run("flaky", flaky)
    doubled = await ctx.step.invoke("call-child", function=child, data={"x": 21})
    return {"sum": first + second + int(doubled)}


@client.create_function(fn_id="fails", retries=0, trigger=inngest.TriggerEvent(event="otel/fail"))
async def fails(ctx: inngest.Context) -> None:
    async def doomed() -> None:
        raise inngest.NonRetriableError("doomed on purpose")

    await ctx.step.run("doomed", doomed)


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [child, traced, fails])
