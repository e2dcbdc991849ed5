"""Benchmark target (c): the same 3-step function as ``sdk_app.py`` on a Python SDK Connect
worker (``inngest.connect``): it dials in to the server's gateway and serves no SDK endpoint.

Run as ``python bench/apps/connect_app.py --port P --app-id bench-connect`` with ``INNGEST_DEV=1``
and ``INNGEST_BASE_URL`` set. ``--port`` serves only the benchmark's own ``GET /bench/wait`` and
``GET /bench/stats`` (see common.py), on the same event loop as the worker. A call's arrival is
stamped when the function body starts (there is no HTTP request to stamp).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

import fastapi
import inngest
import uvicorn
from common import RunRecorder
from inngest.connect import connect
from sdk_app import EVENT_NAME, _one, _three, _two

RECORDER = RunRecorder()


def build_function(client: inngest.Inngest) -> inngest.Function[Any]:
    @client.create_function(fn_id="chain", trigger=inngest.TriggerEvent(event=EVENT_NAME))
    async def chain(ctx: inngest.Context) -> dict[str, int]:
        arrived = time.time()
        rec = RECORDER.call(ctx.run_id, arrived, ctx.event.data)
        a = await ctx.step.run("one", _one)
        b = await ctx.step.run("two", _two, a)
        c = await ctx.step.run("three", _three, a, b)
        RECORDER.final(rec, arrived)
        return c

    return chain


def control_app() -> fastapi.FastAPI:
    app = fastapi.FastAPI()

    @app.get("/bench/wait")
    async def bench_wait(phase: str, n: int, secs: float = 60.0) -> dict[str, Any]:
        return await RECORDER.wait(phase, n, min(secs, 600.0))

    @app.get("/bench/stats")
    async def bench_stats() -> dict[str, Any]:
        return RECORDER.stats()

    return app


async def run(host: str, port: int, app_id: str) -> None:
    client = inngest.Inngest(app_id=app_id, is_production=False)
    config = uvicorn.Config(control_app(), host=host, port=port, log_level="warning")
    control = asyncio.create_task(uvicorn.Server(config).serve())
    await connect([(client, [build_function(client)])], instance_id=f"bench-{os.getpid()}").start()
    control.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-id", default="bench-connect")
    args = parser.parse_args()
    os.environ.setdefault("INNGEST_DEV", "1")
    asyncio.run(run(args.host, args.port, args.app_id))


if __name__ == "__main__":
    main()
