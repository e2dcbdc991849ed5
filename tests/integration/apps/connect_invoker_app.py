"""An HTTP app (official Python SDK, FastAPI) that invokes a function of the Connect worker's
app `cw`: an app may call another whatever way each is reached. App id `inv`.

Run: `INNGEST_DEV=1 INNGEST_BASE_URL=… uvicorn connect_invoker_app:app
--app-dir tests/integration/apps`.
"""

from __future__ import annotations

from typing import Any

import fastapi
import inngest
import inngest.fast_api

client = inngest.Inngest(app_id="inv")


@client.create_function(fn_id="caller", trigger=inngest.TriggerEvent(event="inv/call"))
async def caller(ctx: inngest.Context) -> Any:
    return await ctx.step.invoke_by_id("call", app_id="cw", function_id="chain", data={"n": 3})


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [caller])
