"""How a subscription reaches its subscriber: an SSE response, or a WebSocket.

A message goes straight onto a connection that takes it, from the publisher's own stack (one
socket write per subscriber, no task switch: what keeps 1,000 subscribers fast). A connection
that does not take it at once gets its messages buffered in the hub and written by its own
task (all at once for SSE), so a slow connection only ever slows itself. When the hub drops the
subscription (too slow, or the server stopping) the connection ends with the reason:
- SSE: `event: error` (too slow) or `event: closing` (stopping), `data: {"error", "code"}`,
  then the end of the response;
- WebSocket: close code 1013 "try again later" (too slow) or 1001 "going away" (stopping).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Generator
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from mainspring import errors
from mainspring.realtime import Realtime, tokens
from mainspring.realtime.hub import GONE, SLOW, Closing, Subscriber
from mainspring.realtime.messages import Outgoing, Topic

log = logging.getLogger("mainspring.realtime")
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


class _Rest:
    """The rest of a coroutine started by hand (`_eager`) that had to wait for `future`."""

    def __init__(self, coroutine: Coroutine[Any, Any, None], future: Any) -> None:
        self._coroutine = coroutine
        self._future = future

    def __await__(self) -> Generator[Any, Any, None]:
        yielded = self._future
        while True:
            try:
                value = yield yielded
            except BaseException as exc:
                try:
                    yielded = self._coroutine.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    yielded = self._coroutine.send(value)
                except StopIteration:
                    return


def _eager(coroutine: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """Run `coroutine` now, on this stack: None when it finished without waiting (the
    connection took the bytes), else a task that finishes it (the connection is full)."""
    try:
        yielded = coroutine.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_Rest(coroutine, yielded))


class _Writer:
    """Writes a subscriber's messages: directly from the publisher while the connection takes
    them, through its own task (buffered in the hub) once it does not."""

    def __init__(
        self, subscriber: Subscriber, send: Callable[[Outgoing], Coroutine[Any, Any, None]]
    ) -> None:
        self.subscriber = subscriber
        self._send = send
        self._inflight: asyncio.Future[None] | None = None

    def direct(self, message: Outgoing) -> bool:
        if self._inflight is not None:
            return False  # a write is waiting for the connection: keep the order
        try:
            self._inflight = _eager(self._send(message))
        except (OSError, WebSocketDisconnect, RuntimeError):
            self.subscriber.close(GONE)
        return True

    async def take(self) -> list[Outgoing]:
        """The next messages to write the slow way (after any direct write still waiting)."""
        await self._settle()
        self.subscriber.direct = self.direct
        try:
            return await self.subscriber.take()
        finally:
            self.subscriber.direct = None
            await self._settle()

    async def _settle(self) -> None:
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            await inflight


class SseStream(Response):
    """The event stream of one subscriber (already in the hub: what is published from now on
    is buffered for it). Plain ASGI rather than a StreamingResponse: no task group and no
    async generator per message, which counts with a thousand subscribers."""

    def __init__(self, realtime: Realtime, subscriber: Subscriber) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            *((name.lower().encode(), value.encode()) for name, value in SSE_HEADERS.items()),
        ]
        self._realtime = realtime
        self._subscriber = subscriber

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscriber = self._subscriber

        def one(message: Outgoing) -> Coroutine[Any, Any, None]:
            # `send` itself, no coroutine of ours around it: this runs once per subscriber
            message_body = {"type": "http.response.body", "body": message.sse, "more_body": True}
            return send(message_body)  # type: ignore[return-value]

        writer = _Writer(subscriber, one)
        watcher = asyncio.create_task(_watch_disconnect(receive, subscriber))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await _body(send, b": subscribed\n\n")
            while True:
                batch = await writer.take()
                if batch:
                    await _body(send, b"".join(message.sse for message in batch))
                elif subscriber.closing is None:
                    await _body(send, b": keepalive\n\n")
                else:
                    if subscriber.closing is not GONE:
                        await _body(send, _farewell(subscriber.closing))
                    break
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            self._realtime.unsubscribe(subscriber)


async def _body(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _watch_disconnect(receive: Receive, subscriber: Subscriber) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    subscriber.close(GONE)


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
    raw_send = websocket._send  # accepted already: Starlette's state checks add nothing here

    def one(message: Outgoing) -> Coroutine[Any, Any, None]:
        return raw_send({"type": "websocket.send", "text": message.text})  # type: ignore[return-value]

    writer = _Writer(subscriber, one)
    try:
        while True:
            batch = await writer.take()
            for message in batch:
                await one(message)
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
