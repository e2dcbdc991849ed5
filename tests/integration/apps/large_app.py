"""Test app for run state over the server's limit (the `use_api` path). App id `large`.

- `large-one` (event `large/one`): step `produce` returns "x" * 5_000_000, step `measure`
  returns its length; the run returns `{"len": …}`.
- `large-two` (event `large/two`): steps `a` and `b` each return 2_600_000 characters (each
  under 4 MiB, together over it), step `measure` returns the total length.

An ASGI wrapper logs one `CALL_BODY` line per SDK call: body size, top-level and ctx `use_api`,
number of events and the memoized step ids the server sent.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import fastapi
import inngest
import inngest.fast_api
from sidefx import record, run_step

client = inngest.Inngest(app_id="large")
BIG = 5_000_000
HALF = 2_600_000

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@client.create_function(fn_id="one", retries=0, trigger=inngest.TriggerEvent(event="large/one"))
async def one(ctx: inngest.Context) -> dict[str, int]:
    async def produce() -> str:
        return "x" * BIG

    big = await run_step(ctx, "produce", produce)

    async def measure() -> int:
        return len(big)

    return {"len": await run_step(ctx, "measure", measure)}


@client.create_function(fn_id="two", retries=0, trigger=inngest.TriggerEvent(event="large/two"))
async def two(ctx: inngest.Context) -> dict[str, int]:
    async def part_a() -> str:
        return "a" * HALF

    async def part_b() -> str:
        return "b" * HALF

    a = await run_step(ctx, "a", part_a)
    b = await run_step(ctx, "b", part_b)

    async def measure() -> int:
        return len(a) + len(b)

    return {"len": await run_step(ctx, "measure", measure)}


def note_call(raw: bytes, query: str) -> None:
    try:
        body = json.loads(raw)
        ctx = body["ctx"]
        record(
            "CALL_BODY",
            run_id=ctx["run_id"],
            query=query,
            bytes=len(raw),
            use_api=body.get("use_api"),
            ctx_use_api=ctx.get("use_api"),
            events=len(body.get("events") or []),
            event_name=(body.get("event") or {}).get("name"),
            steps=sorted((body.get("steps") or {}).keys()),
        )
    except (ValueError, KeyError, TypeError) as exc:
        record("CALL_BODY", run_id=None, query=query, bytes=len(raw), error=repr(exc))


class CallRecorder:
    """Pure ASGI wrapper: sees each SDK call's request body on its way to FastAPI."""

    def __init__(self, inner: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.inner(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        chunks: list[bytes] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and "probe=" not in query:
                    note_call(b"".join(chunks), query)
            return message

        await self.inner(scope, recording_receive, send)


api = fastapi.FastAPI()
inngest.fast_api.serve(api, client, [one, two])
app = CallRecorder(api)
