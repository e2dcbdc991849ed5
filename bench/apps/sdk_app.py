"""Benchmark target (a): a real Python SDK app (FastAPI + ``inngest`` under uvicorn).

Run as ``python bench/apps/sdk_app.py --port P --app-id bench-sdk`` with ``INNGEST_DEV=1`` and
``INNGEST_BASE_URL=http://127.0.0.1:<server port>`` in the environment (bench_core.py does this).

Serves the SDK at ``/api/inngest`` with one function ``<app-id>-chain`` (trigger ``bench/chain``)
made of three ``step.run`` calls, like the ``chain`` transcript in SDK_BEHAVIOUR.md §3.
Timing hooks: a raw ASGI wrapper stamps the arrival time of every request; the function body
records it per run (first call, final call). ``GET /bench/wait`` and ``GET /bench/stats`` expose
them (see common.py).
"""

from __future__ import annotations

import argparse
import contextvars
import os
import time
from typing import Any

import fastapi
import inngest
import inngest.fast_api
import uvicorn
from common import RunRecorder

EVENT_NAME = "bench/chain"
ARRIVAL: contextvars.ContextVar[float] = contextvars.ContextVar("arrival", default=0.0)
RECORDER = RunRecorder()


async def _one() -> int:
    return 2


async def _two(x: int) -> int:
    return x * 10


async def _three(x: int, y: int) -> dict[str, int]:
    return {"total": x + y + 3}


def build_app(app_id: str) -> fastapi.FastAPI:
    client = inngest.Inngest(app_id=app_id, is_production=False)

    @client.create_function(fn_id="chain", trigger=inngest.TriggerEvent(event=EVENT_NAME))
    async def chain(ctx: inngest.Context) -> dict[str, int]:
        arrived = ARRIVAL.get() or time.time()
        rec = RECORDER.call(ctx.run_id, arrived, ctx.event.data)
        a = await ctx.step.run("one", _one)
        b = await ctx.step.run("two", _two, a)
        c = await ctx.step.run("three", _three, a, b)
        RECORDER.final(rec, arrived)
        return c

    app = fastapi.FastAPI()
    inngest.fast_api.serve(app, client, [chain])

    @app.get("/bench/wait")
    async def bench_wait(phase: str, n: int, secs: float = 60.0) -> dict[str, Any]:
        return await RECORDER.wait(phase, n, min(secs, 600.0))

    @app.get("/bench/stats")
    async def bench_stats() -> dict[str, Any]:
        return RECORDER.stats()

    return app


class ArrivalStamp:
    """Raw ASGI wrapper: note when each HTTP request arrived, before FastAPI sees it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            ARRIVAL.set(time.time())
        await self.app(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-id", default="bench-sdk")
    args = parser.parse_args()
    os.environ.setdefault("INNGEST_DEV", "1")
    app = ArrivalStamp(build_app(args.app_id))
    uvicorn.run(
        app, host=args.host, port=args.port, workers=1, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
