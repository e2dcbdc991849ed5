"""Test app (official Python SDK, FastAPI) exercising steps, retries, sleeps, parallelism,
fan-out, failure handlers and event dedupe. App id `core`, so slugs are `core-<fn id>`.

Run: `INNGEST_DEV=1 INNGEST_BASE_URL=http://127.0.0.1:<server port> SIDE_EFFECT_LOG=<file>
uvicorn core_app:app --app-dir tests/integration/apps --port <app port>`.
"""

from __future__ import annotations

import datetime
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import record, run_step

client = inngest.Inngest(app_id="core")
FANOUT_CHILDREN = 50


# --- 1. three-step chain ----------------------------------------------------------------
@client.create_function(fn_id="chain", trigger=inngest.TriggerEvent(event="core/chain"))
async def chain(ctx: inngest.Context) -> dict[str, Any]:
    n = int(ctx.event.data["n"])  # type: ignore[arg-type]

    async def one() -> int:
        return n + 1

    first = await run_step(ctx, "one", one)

    async def two() -> int:
        return first * 10

    second = await run_step(ctx, "two", two)

    async def three() -> dict[str, Any]:
        return {"total": second + 5}

    return await run_step(ctx, "three", three)


# --- 2. the same step id in a loop ----------------------------------------------------
@client.create_function(fn_id="loop", trigger=inngest.TriggerEvent(event="core/loop"))
async def loop(ctx: inngest.Context) -> list[int]:
    results: list[int] = []
    for i in range(3):

        async def body(i: int = i) -> int:
            return i * 10

        results.append(await run_step(ctx, "s", body, index=i))
    return results


# --- 3. a step failing on attempts 0 and 1, then succeeding ---------------------------
@client.create_function(fn_id="flaky", retries=2, trigger=inngest.TriggerEvent(event="core/flaky"))
async def flaky(ctx: inngest.Context) -> dict[str, Any]:
    async def wobbly() -> int:
        if ctx.attempt < 2:
            raise RuntimeError(f"transient failure on attempt {ctx.attempt}")
        return ctx.attempt

    succeeded_on = await run_step(ctx, "wobbly", wobbly)

    async def steady() -> int:
        return ctx.attempt

    next_attempt = await run_step(ctx, "steady", steady)
    return {"succeeded_on": succeeded_on, "next_attempt": next_attempt}


# --- 4. retries exhausted ---------------------------------------------------------------
@client.create_function(
    fn_id="exhausted", retries=1, trigger=inngest.TriggerEvent(event="core/exhausted")
)
async def exhausted(ctx: inngest.Context) -> str:
    async def doomed() -> str:
        raise ValueError("doomed step always fails")

    return await run_step(ctx, "doomed", doomed)


# --- 5. NonRetriableError inside a step ----------------------------------------------
@client.create_function(fn_id="fatal", retries=3, trigger=inngest.TriggerEvent(event="core/fatal"))
async def fatal(ctx: inngest.Context) -> str:
    async def give_up() -> str:
        raise inngest.NonRetriableError("fatal: do not retry")

    return await run_step(ctx, "give-up", give_up)


# --- 6. RetryAfterError at function level ----------------------------------------------
@client.create_function(fn_id="retry-after", trigger=inngest.TriggerEvent(event="core/retry-after"))
async def retry_after(ctx: inngest.Context) -> str:
    record("CALL", run_id=ctx.run_id, step="fn", attempt=ctx.attempt)
    if ctx.attempt == 0:
        raise inngest.RetryAfterError("x", 1000)
    return f"done on attempt {ctx.attempt}"


# --- 7. step.sleep ----------------------------------------------------------------------
@client.create_function(fn_id="sleeper", trigger=inngest.TriggerEvent(event="core/sleeper"))
async def sleeper(ctx: inngest.Context) -> str:
    async def before() -> str:
        return "before"

    await run_step(ctx, "before", before)
    await ctx.step.sleep("nap", datetime.timedelta(seconds=2))

    async def after() -> str:
        return "after"

    return await run_step(ctx, "after", after)


# --- 8. parallel group --------------------------------------------------------------------
@client.create_function(fn_id="parallel", trigger=inngest.TriggerEvent(event="core/parallel"))
async def parallel(ctx: inngest.Context) -> dict[str, Any]:
    def leg(name: str, value: int) -> Any:
        async def body() -> int:
            return value

        async def call() -> int:
            return await run_step(ctx, name, body)

        return call

    outputs = await ctx.group.parallel((leg("p1", 1), leg("p2", 2), leg("p3", 3)))

    async def total() -> int:
        return sum(outputs)

    after = await run_step(ctx, "after", total)
    return {"parallel": list(outputs), "after": after}


# --- 9. fan-out with step.send_event ------------------------------------------------------
@client.create_function(fn_id="fanout", trigger=inngest.TriggerEvent(event="core/fanout"))
async def fanout(ctx: inngest.Context) -> dict[str, Any]:
    batch = str(ctx.event.data["batch"])
    events = [
        inngest.Event(name="core/fanout.child", data={"batch": batch, "i": i})
        for i in range(FANOUT_CHILDREN)
    ]
    ids = await ctx.step.send_event("fan", events)
    return {"ids": ids}


@client.create_function(
    fn_id="fanout-child", trigger=inngest.TriggerEvent(event="core/fanout.child")
)
async def fanout_child(ctx: inngest.Context) -> dict[str, Any]:
    i = int(ctx.event.data["i"])  # type: ignore[arg-type]

    async def work() -> int:
        return i * 2

    doubled = await run_step(ctx, "work", work, i=i)
    return {"i": i, "doubled": doubled}


# --- 10. on_failure handler ---------------------------------------------------------------
class KaboomError(Exception):
    pass


async def on_fails_failure(ctx: inngest.Context) -> None:
    record(
        "ON_FAILURE",
        run_id=ctx.run_id,
        event_name=ctx.event.name,
        data=dict(ctx.event.data),
        attempt=ctx.attempt,
    )


@client.create_function(
    fn_id="fails",
    retries=0,
    on_failure=on_fails_failure,
    trigger=inngest.TriggerEvent(event="core/fails"),
)
async def fails(ctx: inngest.Context) -> None:
    record("CALL", run_id=ctx.run_id, step="fn", attempt=ctx.attempt)
    raise KaboomError("kaboom")


# --- 11. event id dedupe ----------------------------------------------------------------
@client.create_function(fn_id="dedupe", trigger=inngest.TriggerEvent(event="core/dedupe"))
async def dedupe(ctx: inngest.Context) -> str:
    record(
        "CALL",
        run_id=ctx.run_id,
        step="fn",
        attempt=ctx.attempt,
        marker=ctx.event.data.get("marker"),
    )
    return str(ctx.event.data.get("marker"))


FUNCTIONS: list[inngest.Function[Any]] = [
    chain,
    loop,
    flaky,
    exhausted,
    fatal,
    retry_after,
    sleeper,
    parallel,
    fanout,
    fanout_child,
    fails,
    dedupe,
]

app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, FUNCTIONS)
