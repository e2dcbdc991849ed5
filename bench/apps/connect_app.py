"""Benchmark target (c): the same 3-step function as ``sdk_app.py`` on a Python SDK Connect
worker (``inngest.connect``): it dials in to the server's gateway and serves no SDK endpoint.

Run as ``python bench/apps/connect_app.py --port P --app-id bench-connect`` with ``INNGEST_DEV=1``
and ``INNGEST_BASE_URL`` set. ``--port`` serves only the benchmark's own ``GET /bench/wait`` and
``GET /bench/stats`` (see common.py), on the same event loop as the worker.

A call's arrival is stamped when its ``GATEWAY_EXECUTOR_REQUEST`` reaches the worker process, as
sdk_app.py stamps an HTTP call when its request reaches the ASGI app: both before the SDK does
anything with it. (The SDK keeps its WebSocket on a thread of its own and hands each call to the
main loop; stamping in the function body, as this app did first, counted that hop, the ACK
send and the SDK's parsing on the Connect side only.) ``--stamp body`` stamps in the body
instead, to measure that hop.
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
from inngest.connect._internal import connect_pb2
from inngest.connect._internal.execution_handler import ExecutionHandler
from sdk_app import EVENT_NAME, _one, _three, _two

RECORDER = RunRecorder()
RECEIVED: dict[str, float] = {}  # run id -> when its latest call reached this process


def stamp_arrivals() -> None:
    """Note when each call's message arrives (the SDK's WebSocket thread), keyed by run id."""
    handle = ExecutionHandler._handle_executor_request

    def stamped(self: ExecutionHandler, msg: connect_pb2.ConnectMessage) -> None:
        request = connect_pb2.GatewayExecutorRequestData()
        request.ParseFromString(msg.payload)
        RECEIVED[request.run_id] = time.time()
        handle(self, msg)

    ExecutionHandler._handle_executor_request = stamped  # type: ignore[method-assign]


def build_function(client: inngest.Inngest) -> inngest.Function[Any]:
    @client.create_function(fn_id="chain", trigger=inngest.TriggerEvent(event=EVENT_NAME))
    async def chain(ctx: inngest.Context) -> dict[str, int]:
        arrived = RECEIVED.pop(ctx.run_id, None) or time.time()
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
    parser.add_argument("--stamp", choices=("message", "body"), default="message")
    args = parser.parse_args()
    os.environ.setdefault("INNGEST_DEV", "1")
    if args.stamp == "message":
        stamp_arrivals()
    asyncio.run(run(args.host, args.port, args.app_id))


if __name__ == "__main__":
    main()
