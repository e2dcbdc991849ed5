"""uvicorn's httptools protocol with the connection hygiene it lacks.

uvicorn 0.54 has no deadline for request headers (a client sending one byte every 100 ms holds a
connection for ever, and a connection that sends nothing is never closed), and it closes a
connection right after answering a request whose body it has not read, which resets the
connection under a client still writing that body. Its `limit_concurrency` answers 503 only once
the headers are in (so it never refuses a slow client) and counts request tasks and connections,
the asking one included. This subclass adds, per connection:

- a header deadline, armed when the connection opens and when the next request's first bytes
  arrive, cancelled when the headers are complete: overdue, it answers 408 and closes;
- a cap on open connections: a connection beyond it gets a JSON 503 for its request;
- a bounded drain after a response to a request whose body is unread: keep-alive connections
  parse and discard the rest (then stay usable), closing ones half-close and discard until the
  client closes; past `drain_max_bytes` or `drain_max_s` the connection is closed.

The idle keep-alive timeout is uvicorn's own (`timeout_keep_alive`), re-armed here after a drain.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mainspring.serving import collector, responses
from mainspring.serving.limits import ConnectionLimits


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._drain_timer: asyncio.TimerHandle | None = None
        self._awaiting_headers = True
        self._headers_started = False  # bytes of the awaited request have arrived
        self._draining = False  # keep-alive: the parser discards the rest of the body
        self._lingering = False  # closing: raw bytes are discarded until the client closes
        self._drained = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self.app = responses.over_capacity(self.limits.max_connections)
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._draining or self._lingering:
            self._drained += len(data)
            if self._drained > self.limits.drain_max_bytes:
                self.transport.close()
                return
            if self._lingering:
                return
        elif self._awaiting_headers:
            self._headers_started = True
            if self._header_timer is None:
                self._arm_header_deadline()
        super().data_received(data)

    def on_message_begin(self) -> None:
        # A request that begins in the same read as the end of the previous one saw no
        # data_received of its own yet: its headers get a deadline here.
        if self._header_timer is None and not self.transport.is_closing():
            self._arm_header_deadline()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = self._headers_started = False
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:
            self.cycle.transport = _LingerOnClose(self)

    def on_message_complete(self) -> None:
        self._awaiting_headers = True
        if self._draining:
            self._draining = False
            self._cancel_drain_timer()
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self._lingering:
            return  # the connection is closing: no keep-alive timer, no pipelined request
        super().on_response_complete()
        if self._body_unread() and not self.transport.is_closing():
            self._unset_keepalive_if_required()
            self._draining = True
            self._start_drain_timer()

    def close_after_response(self) -> None:
        """Close, but first let the client finish writing a body we did not read."""
        if self._lingering or self.transport.is_closing():
            return
        if not self._body_unread() or not self.transport.can_write_eof():
            self.transport.close()
            return
        self._lingering = True
        self._draining = False
        self._cancel_timers()
        self._unset_keepalive_if_required()
        self.transport.write_eof()  # the answer, then FIN: the client reads it when done writing
        self.flow.resume_reading()
        self._start_drain_timer()

    def _body_unread(self) -> bool:
        """The answered request still has body bytes on the way (the newest cycle is the one
        answered unless pipelined requests wait behind it, and those follow a complete body)."""
        cycle = self.cycle
        return cycle is not None and not self.pipeline and cycle.more_body

    def _arm_header_deadline(self) -> None:
        self._header_timer = self.loop.call_later(
            self.limits.header_timeout_s, self._headers_overdue
        )

    def _headers_overdue(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self._headers_started:  # a connection that never spoke is closed silently
            self.transport.write(responses.request_timeout())
        self.transport.close()

    def _start_drain_timer(self) -> None:
        self._drained = 0
        self._cancel_drain_timer()
        self._drain_timer = self.loop.call_later(self.limits.drain_max_s, self.transport.close)

    def _cancel_drain_timer(self) -> None:
        if self._drain_timer is not None:
            self._drain_timer.cancel()
            self._drain_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_drain_timer()
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None


class _LingerOnClose(asyncio.Transport):
    """What a request's cycle writes its response to: uvicorn closes the connection through it
    after a `connection: close` response; that close becomes a lingering close."""

    def __init__(self, protocol: GuardedHttpToolsProtocol) -> None:
        super().__init__()
        self._protocol = protocol
        self._transport = protocol.transport

    def write(self, data: bytes | bytearray | memoryview[Any]) -> None:
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._protocol.close_after_response()


def protocol_class(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class to pass to uvicorn as `http=`, bound to these limits.

    Built once per server process after the app (cli/server.py `serve`), which makes it the
    moment to set the process's collector: serve() itself is being restructured."""
    collector.tune()
    return type("MainspringHttpProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
