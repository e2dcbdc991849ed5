"""Test app for flow control (§6). App id `flow`. Step bodies are traced (START/END) in the
side-effect log with the event's `k` (key) and `seq` (order sent), so tests can measure overlap,
start rates and order.

- `flow-conc` (`flow/conc`): concurrency 5; two steps of 50 ms.
- `flow-keyed` (`flow/keyed`): concurrency 1 per `event.data.k`; one step of 300 ms.
- `flow-throttle` (`flow/throttle`): throttle 10 per second; one instant step.
- `flow-rate` (`flow/rate`): rateLimit 2 per minute per `event.data.k`.
- `flow-idem` (`flow/idem`): idempotency `event.data.id`.
- `flow-single-skip` / `flow-single-cancel` (`flow/single-*`): singleton per `event.data.k`;
  step `work`, then a 2 s sleep (the run stays active), then step `done`.
- `flow-priority` (`flow/priority`): concurrency 1, priority `event.data.p`; one 100 ms step.
- `flow-debounce` (`flow/debounce`): debounce 1 s per `event.data.k`, timeout 3 s.
- `flow-batch` (`flow/batch`): batchEvents maxSize 3, timeout 2 s, per `event.data.k`; events with
  `data.solo` true run alone. The step logs the batch's `seqs`.
- `flow-env-a` / `flow-env-b` (`flow/env-a`, `flow/env-b`): concurrency 1 per `event.data.k`
  with scope `env` (the key is shared by both functions); one step of 300 ms.
- `flow-sleepy` (`flow/sleepy`): concurrency 1; step `work`, a 1.5 s sleep, step `done`.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import run_step

client = inngest.Inngest(app_id="flow")


def _meta(ctx: inngest.Context) -> dict[str, Any]:
    data = ctx.event.data
    return {"k": data.get("k"), "seq": data.get("seq")}


async def _pause(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "ok"


@client.create_function(
    fn_id="conc",
    concurrency=[inngest.Concurrency(limit=5)],
    trigger=inngest.TriggerEvent(event="flow/conc"),
)
async def conc(ctx: inngest.Context) -> str:
    await run_step(ctx, "a", lambda: _pause(0.05), **_meta(ctx))
    return await run_step(ctx, "b", lambda: _pause(0.05), **_meta(ctx))


@client.create_function(
    fn_id="keyed",
    concurrency=[inngest.Concurrency(limit=1, key="event.data.k")],
    trigger=inngest.TriggerEvent(event="flow/keyed"),
)
async def keyed(ctx: inngest.Context) -> str:
    return await run_step(ctx, "work", lambda: _pause(0.3), **_meta(ctx))


@client.create_function(
    fn_id="throttle",
    throttle=inngest.Throttle(limit=10, period=datetime.timedelta(seconds=1)),
    trigger=inngest.TriggerEvent(event="flow/throttle"),
)
async def throttle(ctx: inngest.Context) -> str:
    return await run_step(ctx, "work", lambda: _pause(0), **_meta(ctx))


@client.create_function(
    fn_id="rate",
    rate_limit=inngest.RateLimit(limit=2, period=datetime.timedelta(minutes=1), key="event.data.k"),
    trigger=inngest.TriggerEvent(event="flow/rate"),
)
async def rate(ctx: inngest.Context) -> str:
    return await run_step(ctx, "work", lambda: _pause(0), **_meta(ctx))


@client.create_function(
    fn_id="idem", idempotency="event.data.id", trigger=inngest.TriggerEvent(event="flow/idem")
)
async def idem(ctx: inngest.Context) -> str:
    return await run_step(ctx, "work", lambda: _pause(0), **_meta(ctx))


async def _singleton_body(ctx: inngest.Context) -> str:
    await run_step(ctx, "work", lambda: _pause(0), **_meta(ctx))
    await ctx.step.sleep("hold", datetime.timedelta(seconds=2))
    return await run_step(ctx, "done", lambda: _pause(0), **_meta(ctx))


@client.create_function(
    fn_id="single-skip",
    singleton=inngest.Singleton(key="event.data.k", mode="skip"),
    trigger=inngest.TriggerEvent(event="flow/single-skip"),
)
async def single_skip(ctx: inngest.Context) -> str:
    return await _singleton_body(ctx)


@client.create_function(
    fn_id="single-cancel",
    singleton=inngest.Singleton(key="event.data.k", mode="cancel"),
    trigger=inngest.TriggerEvent(event="flow/single-cancel"),
)
async def single_cancel(ctx: inngest.Context) -> str:
    return await _singleton_body(ctx)


@client.create_function(
    fn_id="priority",
    concurrency=[inngest.Concurrency(limit=1)],
    priority=inngest.Priority(run="event.data.p"),
    trigger=inngest.TriggerEvent(event="flow/priority"),
)
async def prioritized(ctx: inngest.Context) -> str:
    return await run_step(ctx, "work", lambda: _pause(0.1), **_meta(ctx))


@client.create_function(
    fn_id="debounce",
    debounce=inngest.Debounce(
        period=datetime.timedelta(seconds=1),
        key="event.data.k",
        timeout=datetime.timedelta(seconds=3),
    ),
    trigger=inngest.TriggerEvent(event="flow/debounce"),
)
async def debounced(ctx: inngest.Context) -> str:
    return await run_step(ctx, "work", lambda: _pause(0), **_meta(ctx))


@client.create_function(
    fn_id="batch",
    batch_events=inngest.Batch(
        max_size=3,
        timeout=datetime.timedelta(seconds=2),
        key="event.data.k",
        if_exp="event.data.solo != true",
    ),
    trigger=inngest.TriggerEvent(event="flow/batch"),
)
async def batched(ctx: inngest.Context) -> str:
    seqs = [event.data.get("seq") for event in ctx.events]
    return await run_step(ctx, "work", lambda: _pause(0), seqs=seqs, **_meta(ctx))


def _env_limited(fn_id: str) -> Any:
    @client.create_function(
        fn_id=fn_id,
        concurrency=[inngest.Concurrency(limit=1, key="event.data.k", scope="env")],
        trigger=inngest.TriggerEvent(event=f"flow/{fn_id}"),
    )
    async def env_limited(ctx: inngest.Context) -> str:
        return await run_step(ctx, "work", lambda: _pause(0.3), fn=fn_id, **_meta(ctx))

    return env_limited


env_a, env_b = _env_limited("env-a"), _env_limited("env-b")


@client.create_function(
    fn_id="sleepy",
    concurrency=[inngest.Concurrency(limit=1)],
    trigger=inngest.TriggerEvent(event="flow/sleepy"),
)
async def sleepy(ctx: inngest.Context) -> str:
    await run_step(ctx, "work", lambda: _pause(0), **_meta(ctx))
    await ctx.step.sleep("nap", datetime.timedelta(seconds=1.5))
    return await run_step(ctx, "done", lambda: _pause(0), **_meta(ctx))


app = fastapi.FastAPI()
inngest.fast_api.serve(
    app,
    client,
    [
        conc,
        keyed,
        throttle,
        rate,
        idem,
        single_skip,
        single_cancel,
        prioritized,
        debounced,
        batched,
        env_a,
        env_b,
        sleepy,
    ],
)
