"""A lean HTTP/1.1 keep-alive client for SDK calls to plain-http app URLs.

aiohttp's request machinery (tracing hooks, cookie jar, timers, header multidicts, stream
readers) was over half of the server's CPU per step on the minimal endpoint (py-spy, issue 20).
An SDK call needs none of it: one POST with a small body on a pooled connection, one reply
read whole. This client writes the request in one `write` and parses the reply with httptools
(the parser uvicorn uses). Anything it does not cover (https, proxies) stays on aiohttp.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import cast

import httptools

IDLE_SECONDS = 30.0  # as aiohttp's keepalive_timeout in the driver; apps close theirs sooner


class ReplyTooLarge(Exception):
    """The reply's body exceeded the cap."""


class StaleConnection(ConnectionResetError):
    """The app closed the connection before a byte of the reply: on a reused connection, the
    app's idle timeout racing our write (the request was not read), so it is sent again on a
    fresh one. Apps close idle connections sooner than we drop them (uvicorn after 5 s)."""


class BadHeader(ValueError):
    """A header value with CR or LF (it would split the request)."""


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Response] | None = None
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.cap = 0
        self.headers_done = False
        self.keep_alive = False
        self.replied = False  # a byte of the current reply arrived
        self.lost = False
        self.idle_since = 0.0

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.replied = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:  # on_body's ReplyTooLarge arrives wrapped
            self._fail(ReplyTooLarge(self.cap) if self.size > self.cap else exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.headers_done and self._until_close():  # the body ends with the connection
            self._finish()
        elif self.replied:
            self._fail(ConnectionResetError("the app closed the connection mid-reply"))
        else:
            self._fail(StaleConnection("the app closed the connection before replying"))

    # -- httptools callbacks ---------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()  # valid only while parsing

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self.cap:
            raise ReplyTooLarge(f"reply larger than {self.cap} bytes")
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self._finish()

    # -- request ---------------------------------------------------------------------------

    def _until_close(self) -> bool:
        return "content-length" not in self.headers and "chunked" not in self.headers.get(
            "transfer-encoding", ""
        )

    def _finish(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            status = self.parser.get_status_code()
            waiter.set_result(Response(status, self.headers, b"".join(self.chunks)))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()

    def reusable(self) -> bool:
        return not self.lost and self.keep_alive

    def send(self, data: bytes, cap: int) -> asyncio.Future[Response]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.headers, self.chunks, self.size, self.cap = {}, [], 0, cap
        self.headers_done = self.keep_alive = self.replied = False
        self.transport.write(data)
        return self.waiter


class KeepAliveClient:
    """Pooled connections per (host, port); no limit, like the driver's aiohttp connector."""

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds  # whole exchange, connecting included
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def post(
        self,
        host: str,
        port: int,
        host_header: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        cap: int,
    ) -> Response:
        """POST `body` to `target` (path and query) and read the reply whole. Raises
        OSError/ConnectionError, TimeoutError, httptools.HttpParserError or ReplyTooLarge."""
        head = [f"POST {target} HTTP/1.1\r\nHost: {host_header}\r\n"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise BadHeader(f"header {name} holds a line break")
            head.append(f"{name}: {value}\r\n")
        head.append(f"Content-Length: {len(body)}\r\n\r\n")
        data = "".join(head).encode("latin-1") + body
        key = (host, port)
        async with asyncio.timeout(self._timeout):
            reused = self._checkout(key)
            if reused is not None:
                try:
                    return self._checkin(key, reused, await reused.send(data, cap))
                except StaleConnection:
                    pass  # closed by the app as we reused it: once more, on a fresh one
                except BaseException:
                    reused.close()  # cancelled or failed mid-exchange: its state is unknown
                    raise
            conn = await self._connect(host, port)
            try:
                return self._checkin(key, conn, await conn.send(data, cap))
            except BaseException:
                conn.close()
                raise

    def _checkin(self, key: tuple[str, int], conn: _Connection, response: Response) -> Response:
        """Pool `conn` again when the reply left it reusable; `response` passes through."""
        if conn.reusable():
            conn.idle_since = time.monotonic()
            self._idle.setdefault(key, []).append(conn)
        else:
            conn.close()
        return response

    def _checkout(self, key: tuple[str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.lost and now - conn.idle_since < IDLE_SECONDS:
                return conn
            conn.close()
        return None

    async def _connect(self, host: str, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Connection, host, port)
        return conn

    def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
