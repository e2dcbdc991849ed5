"""Test app for re-syncs. App id `syncer`.

Both functions react to `sync/ping`. With SYNC_APP_VARIANT=reduced the app serves only
`keep`, so a re-sync must remove `syncer-drop`.
"""

from __future__ import annotations

import os

import fastapi
import inngest
import inngest.fast_api
from sidefx import record

client = inngest.Inngest(app_id="syncer")


@client.create_function(fn_id="keep", trigger=inngest.TriggerEvent(event="sync/ping"))
async def keep(ctx: inngest.Context) -> str:
    record("CALL", run_id=ctx.run_id, step="keep", attempt=ctx.attempt)
    return "keep"


@client.create_function(fn_id="drop", trigger=inngest.TriggerEvent(event="sync/ping"))
async def drop(ctx: inngest.Context) -> str:
    record("CALL", run_id=ctx.run_id, step="drop", attempt=ctx.attempt)
    return "drop"


FUNCTIONS = [keep] if os.environ.get("SYNC_APP_VARIANT") == "reduced" else [keep, drop]

app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, FUNCTIONS)
