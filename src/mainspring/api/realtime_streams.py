"""How a subscription reaches its subscriber: an SSE response, or a WebSocket.

Each connection has its own task that writes what the hub buffered for it (all of it at once
for SSE), so a slow connection only ever slows itself. When the hub drops the subscription
(too slow, or the server stopping) the connection ends with the reason:
- SSE: `event: error` (too slow) or `event: closing` (stopping), `data: {"error", "code"}`,
  then the end of the response;
- WebSocket: close code 1013 "try again later" (too slow) or 1001 "going away" (stopping).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
from starlette.responses import StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from mainspring import errors
from mainspring.realtime import Realtime, tokens
from mainspring.realtime.hub import SLOW, Closing, Subscriber
from mainspring.realtime.messages import Topic

log = logging.getLogger("mainspring.realtime")
KEEPALIVE_S = 15.0  # an SSE comment this often keeps proxies from closing an idle stream
WS_IDLE_S = 3600.0  # WebSockets need no traffic of ours: the server pings them
WS_CLOSE_SLOW = 1013  # "try again later"
WS_CLOSE_GOING_AWAY = 1001
SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    "Access-Control-Allow-Origin": "*",  # browsers subscribe from the app's own origin
}


def _farewell(closing: Closing) -> bytes:
    event = b"error" if closing is SLOW else b"closing"
    data = orjson.dumps({"error": closing.message, "code": closing.code})
    return b"event: " + event + b"\ndata: " + data + b"\n\n"


def sse_response(realtime: Realtime, subscriber: Subscriber) -> StreamingResponse:
    """The subscriber is in the hub already: what is published from now on is buffered."""
    return StreamingResponse(
        _events(realtime, subscriber), media_type="text/event-stream", headers=SSE_HEADERS
    )


async def _events(realtime: Realtime, subscriber: Subscriber) -> AsyncIterator[bytes]:
    try:
        yield b": subscribed\n\n"
        while True:
            batch = await subscriber.take(KEEPALIVE_S)
            if batch:
                yield b"".join(message.sse for message in batch)
            elif subscriber.closing is not None:
                yield _farewell(subscriber.closing)
                return
            else:
                yield b": keepalive\n\n"
    finally:
        realtime.unsubscribe(subscriber)


async def websocket_session(
    websocket: WebSocket, realtime: Realtime, topics: frozenset[Topic]
) -> None:
    """Subscribe, accept, then write messages and read `sub`/`unsub` requests until either
    side ends the connection."""
    subscriber = realtime.subscribe(topics)  # before accepting: a client that sees the
    try:  # connection open is subscribed
        await websocket.accept()
        writer = asyncio.create_task(_write(websocket, subscriber))
        reader = asyncio.create_task(_read(websocket, realtime, subscriber))
        await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        for task in (writer, reader):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, WebSocketDisconnect):
                await task
    finally:
        realtime.unsubscribe(subscriber)


async def _write(websocket: WebSocket, subscriber: Subscriber) -> None:
    try:
        while True:
            batch = await subscriber.take(WS_IDLE_S)
            for message in batch:
                await websocket.send_text(message.text)
            if not batch and subscriber.closing is not None:
                code = WS_CLOSE_SLOW if subscriber.closing is SLOW else WS_CLOSE_GOING_AWAY
                await websocket.close(code, subscriber.closing.message)
                return
    except (OSError, WebSocketDisconnect, RuntimeError):
        return  # the client went away (RuntimeError: Starlette's "already closed")


async def _read(websocket: WebSocket, realtime: Realtime, subscriber: Subscriber) -> None:
    """Inngest's in-band requests: `{"kind": "sub", "data": "<token>"}` adds the token's
    topics; `{"kind": "unsub", "data": [{channel, name}]}` removes topics. Others are ignored."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text:
            _control(realtime, subscriber, text)


def _control(realtime: Realtime, subscriber: Subscriber, text: str) -> None:
    try:
        request = orjson.loads(text)
        kind, data = request.get("kind"), request.get("data")
        if kind == "sub" and isinstance(data, str):
            realtime.hub.add(subscriber, realtime.grants(data, None, []))
        elif kind == "unsub":
            realtime.hub.drop_topics(subscriber, tokens.requested_topics(data))
    except (orjson.JSONDecodeError, AttributeError, errors.MainspringError) as exc:
        log.debug("ignored a realtime WebSocket request: %s", exc)
