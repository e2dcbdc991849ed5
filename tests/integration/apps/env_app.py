"""Test app for environments (issue 19). App id `envs`; the same code runs once per
environment, told apart by `INNGEST_ENV` (unset: production), which the SDK sends as
`X-Inngest-Env` on its sync and its events.

- `env-echo` (`env/echo`): one step answering which environment's app ran it.
- `env-limited` (`env/limited`): concurrency 1 per `event.data.k` with scope `env`; one step
  that holds for `event.data.hold` seconds.
- `env-relay` (`env/relay`): sends `env/echo` from inside the run (the SDK's own event send),
  which must start `env-echo` in the same environment only.
- `POST /send {name, data}`: the app sends an event with `client.send` (its `INNGEST_EVENT_KEY`
  and `INNGEST_ENV`), as user code outside a function would.
"""

from __future__ import annotations

import asyncio
import os

import fastapi
import inngest
import inngest.fast_api

client = inngest.Inngest(app_id="envs")
ENV = os.environ.get("INNGEST_ENV") or "production"


@client.create_function(fn_id="echo", trigger=inngest.TriggerEvent(event="env/echo"))
async def echo(ctx: inngest.Context) -> dict[str, object]:
    async def which() -> dict[str, object]:
        return {"env": ENV, "n": ctx.event.data.get("n")}

    return await ctx.step.run("which", which)


@client.create_function(
    fn_id="limited",
    concurrency=[inngest.Concurrency(limit=1, key="event.data.k", scope="env")],
    trigger=inngest.TriggerEvent(event="env/limited"),
)
async def limited(ctx: inngest.Context) -> str:
    async def hold() -> str:
        await asyncio.sleep(float(ctx.event.data.get("hold", 0)))  # type: ignore[arg-type]
        return ENV

    return await ctx.step.run("hold", hold)


@client.create_function(fn_id="relay", trigger=inngest.TriggerEvent(event="env/relay"))
async def relay(ctx: inngest.Context) -> str:
    await ctx.step.send_event("send", inngest.Event(name="env/echo", data={"n": "relayed"}))
    return ENV


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [echo, limited, relay])


@app.post("/send")
async def send(body: dict[str, object]) -> list[str]:
    data = body.get("data") or {}
    assert isinstance(data, dict)
    return await client.send(inngest.Event(name=str(body["name"]), data=data))
