"""Test app for step.invoke. App id `inv`.

Children (their triggers are never used by the tests: invoke bypasses triggers):
- `inv-child`: step `work` logs `CHILD` (event name + data) and returns `x * 2`;
  the run returns `{"doubled": x * 2}`.
- `inv-bad-child`: logs `CHILD`, raises NonRetriableError("child refuses") (retries=0).
- `inv-slow-child`: logs `CHILD`, sleeps 5 s (step.sleep), returns "slow done".

Parents (each logs `INVOKE_BEGIN` right before step.invoke on every call that reaches it, and
`INVOKE_DONE` once it returned or raised):
- `inv-parent` (event `inv/parent`): invokes `child` with `{"x": 21, "token": …}` and
  returns `{"child": <child output>, "plus_one": doubled + 1}`.
- `inv-catcher` (event `inv/catcher`): invokes `bad-child`, catches StepError → marker.
- `inv-strict` (event `inv/strict`): invokes `bad-child` without catching (the run fails).
- `inv-impatient` (event `inv/impatient`): invokes `slow-child` with timeout=1 s, catches
  StepError → marker.
- `inv-lost` (event `inv/lost`): invokes a function id no app declares, catches StepError →
  marker (the invoke step fails at once with "could not find function").
"""

from __future__ import annotations

import datetime
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import record

client = inngest.Inngest(app_id="inv")
SLOW_CHILD_SECONDS = 5


def note_child(ctx: inngest.Context, fn: str) -> None:
    record(
        "CHILD",
        run_id=ctx.run_id,
        fn=fn,
        attempt=ctx.attempt,
        event_name=ctx.event.name,
        data=dict(ctx.event.data),
    )


@client.create_function(fn_id="child", retries=0, trigger=inngest.TriggerEvent(event="inv/child"))
async def child(ctx: inngest.Context) -> dict[str, Any]:
    async def work() -> int:
        note_child(ctx, "child")
        return int(ctx.event.data["x"]) * 2  # type: ignore[arg-type]

    doubled = await ctx.step.run("work", work)
    return {"doubled": doubled}


@client.create_function(
    fn_id="bad-child", retries=0, trigger=inngest.TriggerEvent(event="inv/bad-child")
)
async def bad_child(ctx: inngest.Context) -> None:
    note_child(ctx, "bad-child")
    raise inngest.NonRetriableError("child refuses")


@client.create_function(
    fn_id="slow-child", retries=0, trigger=inngest.TriggerEvent(event="inv/slow-child")
)
async def slow_child(ctx: inngest.Context) -> str:
    note_child(ctx, "slow-child")
    await ctx.step.sleep("nap", datetime.timedelta(seconds=SLOW_CHILD_SECONDS))
    return "slow done"


def caught(err: inngest.StepError) -> dict[str, Any]:
    return {"caught": type(err).__name__, "name": err.name, "message": err.message}


@client.create_function(fn_id="parent", trigger=inngest.TriggerEvent(event="inv/parent"))
async def parent(ctx: inngest.Context) -> dict[str, Any]:
    token = ctx.event.data["token"]
    record("INVOKE_BEGIN", run_id=ctx.run_id, fn="parent")
    result = await ctx.step.invoke("call", function=child, data={"x": 21, "token": token})
    record("INVOKE_DONE", run_id=ctx.run_id, fn="parent", result=result)
    return {"child": result, "plus_one": result["doubled"] + 1}


@client.create_function(fn_id="catcher", trigger=inngest.TriggerEvent(event="inv/catcher"))
async def catcher(ctx: inngest.Context) -> dict[str, Any]:
    token = ctx.event.data["token"]
    record("INVOKE_BEGIN", run_id=ctx.run_id, fn="catcher")
    try:
        await ctx.step.invoke("call", function=bad_child, data={"token": token})
    except inngest.StepError as err:
        record("INVOKE_DONE", run_id=ctx.run_id, fn="catcher", error=caught(err))
        return caught(err)
    return {"caught": None}


@client.create_function(fn_id="strict", retries=0, trigger=inngest.TriggerEvent(event="inv/strict"))
async def strict(ctx: inngest.Context) -> None:
    token = ctx.event.data["token"]
    await ctx.step.invoke("call", function=bad_child, data={"token": token})


@client.create_function(fn_id="impatient", trigger=inngest.TriggerEvent(event="inv/impatient"))
async def impatient(ctx: inngest.Context) -> dict[str, Any]:
    token = ctx.event.data["token"]
    record("INVOKE_BEGIN", run_id=ctx.run_id, fn="impatient")
    try:
        result = await ctx.step.invoke(
            "call",
            function=slow_child,
            data={"token": token},
            timeout=datetime.timedelta(seconds=1),
        )
    except inngest.StepError as err:
        record("INVOKE_DONE", run_id=ctx.run_id, fn="impatient", error=caught(err))
        return caught(err)
    record("INVOKE_DONE", run_id=ctx.run_id, fn="impatient", result=result)
    return {"caught": None, "result": result}


@client.create_function(fn_id="lost", retries=0, trigger=inngest.TriggerEvent(event="inv/lost"))
async def lost(ctx: inngest.Context) -> dict[str, Any]:
    record("INVOKE_BEGIN", run_id=ctx.run_id, fn="lost")
    try:
        await ctx.step.invoke_by_id("call", function_id="no-such-function")
    except inngest.StepError as err:
        record("INVOKE_DONE", run_id=ctx.run_id, fn="lost", error=caught(err))
        return caught(err)
    return {"caught": None}


app = fastapi.FastAPI()
inngest.fast_api.serve(
    app, client, [child, bad_child, slow_child, parent, catcher, strict, impatient, lost]
)
