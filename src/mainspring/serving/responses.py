"""What the connection layer answers by itself, in the JSON error shape of the API."""

from __future__ import annotations

import logging
import time

import orjson
from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope

log = logging.getLogger("mainspring.serving")
_WARN_EVERY_S = 10.0
_last_warning = 0.0


def _json_error(status: int, code: str, message: str) -> bytes:
    return orjson.dumps({"error": message, "status": status, "code": code})


def request_timeout() -> bytes:
    """A whole 408 response (written straight to the transport, no app involved)."""
    body = _json_error(408, "request_timeout", "request headers not received in time")
    head = (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(body)
    )
    return head + body


def over_capacity(max_connections: int) -> ASGI3Application:
    """An ASGI app answering 503 to every request on a connection beyond the cap."""
    message = f"too many open connections (at most {max_connections}); retry shortly"
    body = _json_error(503, "over_capacity", message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]

    async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        _warn_throttled(max_connections)
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return app


def _warn_throttled(max_connections: int) -> None:
    """One line per burst: a flood of refused connections must not flood the log too."""
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_S:
        _last_warning = now
        log.warning("open connections above --max-connections=%d: answering 503", max_connections)
