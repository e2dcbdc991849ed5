"""Test app for several Mainspring processes sharing one PostgreSQL database. App id `multi`.

- `multi-three` (event `multi/three`, data `{"i": n}`): three traced steps `a`, `b`, `c`, each
  body sleeping $MULTI_STEP_SECONDS (default 0.05 s); output `{"i": n, "results": [a<n>, b<n>,
  c<n>]}`.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import run_step

client = inngest.Inngest(app_id="multi")
STEP_SECONDS = float(os.environ.get("MULTI_STEP_SECONDS", "0.05"))


@client.create_function(fn_id="three", trigger=inngest.TriggerEvent(event="multi/three"))
async def three(ctx: inngest.Context) -> dict[str, Any]:
    i = int(ctx.event.data["i"])  # type: ignore[arg-type]
    results: list[str] = []
    for name in ("a", "b", "c"):

        async def body(name: str = name) -> str:
            await asyncio.sleep(STEP_SECONDS)
            return f"{name}{i}"

        results.append(await run_step(ctx, name, body))
    return {"i": i, "results": results}


app = fastapi.FastAPI()
inngest.fast_api.serve(app, client, [three])
