"""`POST /v1/realtime/publish/tee?channel=`: a durable endpoint's output, streamed to its caller.

When a durable endpoint that streams (`stream.push` / `stream.pipe`) runs asynchronously, the
TypeScript SDK POSTs its output here as it is made: SSE events (`inngest.metadata`,
`inngest.stream`, `inngest.commit` …, `inngest.response` at the end) in a body that stays open
while the call runs, on the channel named by the run id. Each piece is passed on unchanged, as
it arrives, to the subscribers of that channel's `$stream` topic: the endpoint's caller, whom
the SDK pointed at `/v1/realtime/sse?token=` with the run's `realtime_token`. Across processes
on PostgreSQL, through the realtime fan-out (`realtime/service.py`).

The SDK (4.24) never ends the body of a call that ran a step but did not finish the run: the
request would stay open as long as the app lives. So a tee also ends, with `Connection: close`,
when the run is over (checked whenever it has been quiet for `QUIET_CHECK_S`), after
`MAX_TEE_S` (Inngest's longest durable-endpoint stream), and when the server stops.

Credentials: in production the signing key's bearer hash (what the SDK sends) or a realtime
JWT with the publish claim; dev mode is open. One request forwards at most `MAX_TEE_BYTES`
(Inngest's bound); past it nothing more is forwarded and the answer is 413.
"""

from __future__ import annotations

import asyncio
import codecs
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive

from mainspring import errors
from mainspring.api.errors import JSONResponse, error_body, invalid_input
from mainspring.api.state import services
from mainspring.protocol import signing
from mainspring.realtime.tokens import MAX_NAME_CHARS

log = logging.getLogger("mainspring.realtime")
MAX_TEE_BYTES = 1000 * 1024  # Inngest: MaxStreamingChunks x StreamingChunkSize
MAX_TEE_S = 15 * 60.0  # Inngest's MaxDurpStreamingRun
QUIET_CHECK_S = 5.0  # a quiet tee asks this often whether its run is still going


class Ending(enum.Enum):
    COMPLETE = "complete"  # the body ended
    GONE = "gone"  # the app went away
    TOO_LARGE = "too_large"
    TOO_LONG = "too_long"
    RUN_OVER = "run_over"  # nothing more can come: the call that opened it is long done
    STOPPING = "stopping"


class Pieces:
    """The body as text, piece by piece as it arrives (a character split between reads is kept
    whole; SSE is UTF-8, anything else becomes U+FFFD), until it ends or must end (`ending`)."""

    def __init__(
        self,
        receive: Receive,
        *,
        stopping: asyncio.Future[None],
        run_over: Callable[[], Awaitable[bool]],
        limit: int = MAX_TEE_BYTES,
        max_s: float = MAX_TEE_S,
        quiet_s: float = QUIET_CHECK_S,
    ) -> None:
        self._receive = receive
        self._stopping = stopping
        self._run_over = run_over
        self._limit = limit
        self._deadline = time.monotonic() + max_s
        self._quiet_s = quiet_s
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: asyncio.Future[Any] | None = None
        self.size = 0
        self.ending: Ending | None = None

    def __aiter__(self) -> Pieces:
        return self

    async def __anext__(self) -> str:
        while self.ending is None:
            message = await self._next_message()
            if message is None:
                continue  # quiet: `ending` may be set now
            if message["type"] == "http.disconnect":
                self.ending = Ending.GONE
                break
            piece = self._decoded(message.get("body", b""), message.get("more_body", False))
            if piece:
                return piece
        self.close()
        raise StopAsyncIteration

    async def _next_message(self) -> dict[str, Any] | None:
        """The next ASGI message; None when none came within `quiet_s` (or the deadline)."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._receive())
        remaining = self._deadline - time.monotonic()
        waited = {self._pending, self._stopping}
        # The pending receive is never cancelled: it is waited for again after a quiet spell.
        await asyncio.wait(
            waited,
            timeout=min(self._quiet_s, max(remaining, 0.0)),
            return_when=asyncio.FIRST_COMPLETED,
        )
        if self._stopping.done():
            self.ending = Ending.STOPPING
        elif self._pending.done():
            message: dict[str, Any] = self._pending.result()
            self._pending = None
            return message
        elif time.monotonic() >= self._deadline:
            self.ending = Ending.TOO_LONG
        elif await self._run_over():
            self.ending = Ending.RUN_OVER
        return None

    def _decoded(self, raw: bytes, more: bool) -> str:
        if self.size + len(raw) > self._limit:
            raw = raw[: self._limit - self.size]
            self.ending = Ending.TOO_LARGE
        elif not more:
            self.ending = Ending.COMPLETE
        self.size += len(raw)
        if self.ending is None and time.monotonic() >= self._deadline:
            self.ending = Ending.TOO_LONG
        return self._decoder.decode(raw, final=self.ending is not None)

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None


def _refused(request: Request) -> Response | None:
    app = services(request)
    if not app.settings.production:
        return None
    authorization = request.headers.get("authorization")
    if signing.bearer_matches(authorization, app.settings.signing_keys):
        return None
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and app.realtime.may_publish(credential.strip()):
        return None
    message = "the signing key, or a realtime token with the publish claim, is required"
    return JSONResponse(error_body(401, message, code="unauthorized"), status_code=401)


_CUT_SHORT = {  # status, code, message of a tee that ended before its body did
    Ending.TOO_LARGE: (413, "payload_too_large", f"stream larger than {MAX_TEE_BYTES} bytes"),
    Ending.TOO_LONG: (408, "timeout", f"stream open longer than {int(MAX_TEE_S // 60)} minutes"),
    Ending.RUN_OVER: (409, "run_over", "the run this stream belongs to has ended"),
    Ending.STOPPING: (503, "server_closing", "the server is stopping"),
}


async def tee(request: Request) -> Response:
    refused = _refused(request)
    if refused is not None:
        return refused
    channel = request.query_params.get("channel") or ""
    if not channel or len(channel) > MAX_NAME_CHARS:
        message = f"channel is required, at most {MAX_NAME_CHARS} characters"
        return invalid_input(errors.InvalidInput(message, field="channel"))
    app = services(request)

    async def run_over() -> bool:
        try:
            run = await app.reads.run(channel)
        except errors.StoreError:
            return False  # cannot tell now: ask again after the next quiet spell
        return run is None or run["status"] != "Running"

    pieces = Pieces(request.receive, stopping=app.realtime.stopping(), run_over=run_over)
    try:
        await app.realtime.tee(channel, pieces)
    finally:
        pieces.close()
    log.debug("tee of %s ended (%s) after %d bytes", channel, pieces.ending, pieces.size)
    if pieces.ending not in _CUT_SHORT:
        return JSONResponse({})
    status, code, message = _CUT_SHORT[pieces.ending]
    # What is still on its way is not read: close the connection after answering.
    body = error_body(status, f"{message}: nothing more is forwarded", code=code)
    return JSONResponse(body, status_code=status, headers={"Connection": "close"})


routes = [Route("/v1/realtime/publish/tee", tee, methods=["POST"])]
