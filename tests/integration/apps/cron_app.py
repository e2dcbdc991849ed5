"""Test app for cron triggers. App id `cron`.

- `cron-tick`: `@every 2s` (robfig descriptor); step `note` logs `TICK` with the run's event
  (name, id, data) and returns the event data.
- `cron-paris`: `TZ=Europe/Paris * * * * *`; logs `PARIS`.
- `cron-ping` (event `cron/ping`): an ordinary function, so the reduced app still has one.

With CRON_APP_VARIANT=reduced the app serves only `paris` and `ping` (a re-sync must remove
the `cron-tick` schedule).
"""

from __future__ import annotations

import os
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import record

client = inngest.Inngest(app_id="cron")
EVERY = "@every 2s"
PARIS = "TZ=Europe/Paris * * * * *"


@client.create_function(fn_id="tick", trigger=inngest.TriggerCron(cron=EVERY))
async def tick(ctx: inngest.Context) -> dict[str, Any]:
    async def note() -> dict[str, Any]:
        data = dict(ctx.event.data)
        record(
            "TICK",
            run_id=ctx.run_id,
            event_name=ctx.event.name,
            event_id=ctx.event.id,
            data=data,
        )
        return data

    return await ctx.step.run("note", note)


@client.create_function(fn_id="paris", trigger=inngest.TriggerCron(cron=PARIS))
async def paris(ctx: inngest.Context) -> str:
    record("PARIS", run_id=ctx.run_id, event_name=ctx.event.name, data=dict(ctx.event.data))
    return "bonjour"


@client.create_function(fn_id="ping", trigger=inngest.TriggerEvent(event="cron/ping"))
async def ping(ctx: inngest.Context) -> str:
    return "pong"


FUNCTIONS: list[inngest.Function[Any]] = (
    [paris, ping] if os.environ.get("CRON_APP_VARIANT") == "reduced" else [tick, paris, ping]
)

app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, FUNCTIONS)
