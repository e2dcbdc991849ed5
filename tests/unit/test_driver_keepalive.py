"""The driver's lean keep-alive client (plain-http SDK calls) against a raw HTTP server on
loopback that answers with each framing an app may use: Content-Length, chunked, body until
close, `Connection: close`; plus the reply cap and a header that would split the request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from mainspring.execution.driver import CallFailed, Driver

SDK = b"X-Inngest-SDK: inngest-js:v4.24.0\r\n"
Reply = Callable[[bytes], bytes]


class RawServer:
    """Reads one request (head + Content-Length body) at a time; answers `reply(body)`."""

    def __init__(self, reply: Reply, close_after: bool = False, drop_reused: bool = False) -> None:
        self.reply, self.close_after = reply, close_after
        self.drop_reused = drop_reused  # hang up on a connection's second request, unanswered
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0  # requests answered on this connection
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                if self.drop_reused and served:
                    break
                served += 1
                writer.write(self.reply(body))
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[RawServer], asyncio.Future[str]]]:
    servers: list[asyncio.Server] = []

    async def start(raw: RawServer) -> str:
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/api/inngest?fnId=f"

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


def content_length(body: bytes) -> bytes:
    head = b"HTTP/1.1 206 Partial\r\n" + SDK + b"Content-Length: %d\r\n\r\n" % len(body)
    return head + body


async def test_replies_reuse_one_connection(serve: Callable[[RawServer], object]) -> None:
    raw = RawServer(lambda body: content_length(b'[{"op":"StepRun","id":"x"}]'))
    url = await serve(raw)  # type: ignore[misc]
    driver = Driver(5.0)
    try:
        for n in range(3):
            reply = await driver.call(url, b'{"n":%d}' % n, "run1", "step", 2)
            assert reply.status == 206 and reply.from_sdk
            assert reply.body == [{"op": "StepRun", "id": "x"}]
            assert reply.sdk == "inngest-js:v4.24.0"
    finally:
        await driver.close()
    assert raw.connections == 1
    first = raw.requests[0]
    assert first.startswith(b"POST /api/inngest?fnId=f HTTP/1.1\r\n")
    assert b"\r\nX-Run-ID: run1\r\n" in first and first.endswith(b'{"n":0}')


async def test_chunked_and_until_close_bodies(serve: Callable[[RawServer], object]) -> None:
    chunked = RawServer(
        lambda body: (
            b"HTTP/1.1 200 OK\r\n" + SDK + b"Transfer-Encoding: chunked\r\n\r\n"
            b'4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n'
        )
    )
    until_close = RawServer(
        lambda body: b"HTTP/1.1 200 OK\r\n" + SDK + b"Connection: close\r\n\r\n[1,2]",
        close_after=True,
    )
    driver = Driver(5.0)
    try:
        url = await serve(chunked)  # type: ignore[misc]
        assert (await driver.call(url, b"{}", "r", "step", 0)).body == {"a": 1}
        url = await serve(until_close)  # type: ignore[misc]
        for _ in range(2):  # a closed connection is not reused
            assert (await driver.call(url, b"{}", "r", "step", 0)).body == [1, 2]
    finally:
        await driver.close()
    assert until_close.connections == 2


async def test_reply_cap_and_bad_headers_fail_the_call(
    serve: Callable[[RawServer], object],
) -> None:
    raw = RawServer(lambda body: content_length(b"[" + b"1," * 600 + b"1]"))
    url = await serve(raw)  # type: ignore[misc]
    driver = Driver(5.0, max_reply_bytes=1000)
    try:
        with pytest.raises(CallFailed, match="larger than 1000"):
            await driver.call(url, b"{}", "r", "step", 0)
        with pytest.raises(CallFailed, match="line break"):
            await driver.call(url, b"{}", "r", "step\r\nX-Evil: 1", 0)
    finally:
        await driver.close()


async def test_an_app_that_hangs_up_fails_the_call(serve: Callable[[RawServer], object]) -> None:
    raw = RawServer(
        lambda body: b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{", close_after=True
    )
    url = await serve(raw)  # type: ignore[misc]
    driver = Driver(5.0)
    try:
        with pytest.raises(CallFailed, match="closed the connection"):
            await driver.call(url, b"{}", "r", "step", 0)
    finally:
        await driver.close()


async def test_a_reused_connection_the_app_closed_is_retried_on_a_fresh_one(
    serve: Callable[[RawServer], object],
) -> None:
    """The app's idle timeout closing a pooled connection as we write to it: the request was
    never read, so it goes again on a new connection instead of failing the attempt."""
    raw = RawServer(lambda body: content_length(b"[]"), drop_reused=True)
    url = await serve(raw)  # type: ignore[misc]
    driver = Driver(5.0)
    try:
        for _ in range(3):
            assert (await driver.call(url, b"{}", "r", "step", 0)).status == 206
    finally:
        await driver.close()
    # each reuse was dropped unanswered and sent again fresh: 1 + 2 retried connections
    assert raw.connections == 3 and len(raw.requests) == 5
