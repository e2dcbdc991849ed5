"""Test app for step.wait_for_event. App id `waits`.

- `waits-match` (event `waits/start`): waits for `waits/reply` with
  `if_exp="event.data.id == async.data.id"`; timeout `event.data.timeout` seconds (default 10);
  each call first sleeps `event.data.delay` seconds (default 0) after logging `WAITING`.
- `waits-literal` (event `waits/literal.start`): waits for `waits/decision` with
  `if_exp="async.data.kind == 'approved'"`, timeout 10 s.
- `waits-any` (event `waits/any.start`): waits for `waits/any.reply` with no `if`, timeout 10 s.

Each function logs `WAITING` (function level, right before the wait: the run's first
`WAITING` line is the call that reported the WaitForEvent op) and `RESUMED` (right after the
wait returned) and returns what the wait gave it: `{"event": null}` on timeout, else
`{"event": {"name", "id", "data"}}`.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import record

client = inngest.Inngest(app_id="waits")


def describe(event: inngest.Event | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {"name": event.name, "id": event.id, "data": dict(event.data)}


async def wait_and_report(
    ctx: inngest.Context,
    fn: str,
    *,
    event: str,
    if_exp: str | None,
    seconds: int,
    delay: float = 0.0,
) -> dict[str, Any]:
    record("WAITING", run_id=ctx.run_id, fn=fn)
    await asyncio.sleep(delay)  # the call that reaches the wait stays in flight this long
    got = await ctx.step.wait_for_event(
        "w", event=event, if_exp=if_exp, timeout=datetime.timedelta(seconds=seconds)
    )
    result = {"event": describe(got)}
    record("RESUMED", run_id=ctx.run_id, fn=fn, **result)
    return result


@client.create_function(fn_id="match", trigger=inngest.TriggerEvent(event="waits/start"))
async def match(ctx: inngest.Context) -> dict[str, Any]:
    seconds = int(ctx.event.data.get("timeout", 10))  # type: ignore[arg-type]
    return await wait_and_report(
        ctx,
        "match",
        event="waits/reply",
        if_exp="event.data.id == async.data.id",
        seconds=seconds,
        delay=float(ctx.event.data.get("delay", 0)),  # type: ignore[arg-type]
    )


@client.create_function(fn_id="literal", trigger=inngest.TriggerEvent(event="waits/literal.start"))
async def literal(ctx: inngest.Context) -> dict[str, Any]:
    return await wait_and_report(
        ctx,
        "literal",
        event="waits/decision",
        if_exp="async.data.kind == 'approved'",
        seconds=10,
    )


@client.create_function(fn_id="any", trigger=inngest.TriggerEvent(event="waits/any.start"))
async def any_event(ctx: inngest.Context) -> dict[str, Any]:
    return await wait_and_report(ctx, "any", event="waits/any.reply", if_exp=None, seconds=10)


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [match, literal, any_event])
