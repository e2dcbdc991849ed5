"""Realtime over HTTP, as the SDKs and Inngest's server speak it:

- `POST /v1/realtime/publish?channel=&topic=&run_id=`: the body is the message (JSON, or any
  text, sent as a JSON string); `Content-Type: text/stream` streams it instead, as
  `datastream-start`, `chunk`s and `datastream-end`. Signing-key bearer in production.
- `POST /v1/realtime/token` `[{channel, name, kind: "run"}]` → 201 `{jwt}`. Signing-key bearer
  in production.
- `GET /v1/realtime/sse` (Server-Sent Events) and `GET /v1/realtime/connect` (WebSocket, what
  the TypeScript SDK's `subscribe` opens): the token as `?token=` or `Authorization: Bearer`,
  optionally narrowed with `?channel=&topic=`. In dev mode `?channel=&topic=` alone will do.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from mainspring import errors
from mainspring.api.body import read_limited
from mainspring.api.errors import JSONResponse, error_body, invalid_input
from mainspring.api.realtime_streams import SseStream, websocket_session
from mainspring.api.state import env_name, environments, services
from mainspring.realtime import Realtime, tokens
from mainspring.realtime.messages import Topic, json_value
from mainspring.realtime.service import MAX_MESSAGE_BYTES, MAX_STREAM_BYTES

MAX_TOKEN_BODY_BYTES = 64 * 1024
WS_POLICY_VIOLATION = 1008


def _realtime(conn: HTTPConnection) -> Realtime:
    """The realtime of the request's environment, or of the one its token was issued by: the
    SDKs' subscribers (a browser) send a token and no `X-Inngest-Env`."""
    token = _token(conn)
    claimed = tokens.env_claim(token) if token else None
    if claimed is not None and claimed != env_name(conn):
        return environments(conn).get(claimed).realtime
    return services(conn).realtime


def _token(conn: HTTPConnection) -> str | None:
    scheme, _, credential = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return conn.query_params.get("token") or None


def _refusal(exc: errors.MainspringError) -> JSONResponse:
    status = getattr(exc, "status", 400)
    return JSONResponse(error_body(status, exc.message, code=exc.code), status_code=status)


def _grants(conn: HTTPConnection) -> frozenset[Topic]:
    query = conn.query_params
    return _realtime(conn).grants(_token(conn), query.get("channel"), query.getlist("topic"))


def _published_topic(request: Request) -> Topic:
    query = request.query_params
    channel, topic = query.get("channel"), query.get("topic")
    if not channel:
        raise errors.InvalidInput("channel is required", field="channel")
    if not topic:
        raise errors.InvalidInput("topic is required", field="topic")
    return Topic(channel, topic)


async def publish(request: Request) -> Response:
    try:
        topic = _published_topic(request)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    run_id = request.query_params.get("run_id") or None
    realtime = _realtime(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "text/stream":
        await realtime.publish_stream(topic, run_id, _text_pieces(request))
    else:
        body = await read_limited(request, MAX_MESSAGE_BYTES)
        await realtime.publish_data(topic, json_value(body), run_id)
    return JSONResponse({})


async def _text_pieces(request: Request) -> AsyncIterator[str]:
    """The body as it arrives, as text (a character split between reads is kept whole)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    size = 0
    async for raw in request.stream():
        size += len(raw)
        if size > MAX_STREAM_BYTES:
            return  # Inngest's limit: the stream ends there
        piece = decoder.decode(raw)
        if piece:
            yield piece
    rest = decoder.decode(b"", final=True)
    if rest:
        yield rest


async def token(request: Request) -> Response:
    raw = await read_limited(request, MAX_TOKEN_BODY_BYTES)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return invalid_input(errors.InvalidInput("body is not valid JSON", field="body"))
    try:
        topics = tokens.requested_topics(body)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    return JSONResponse({"jwt": _realtime(request).token(topics)}, status_code=201)


async def sse(request: Request) -> Response:
    try:
        granted = _grants(request)
    except errors.MainspringError as exc:
        return _refusal(exc)
    realtime = _realtime(request)
    return SseStream(realtime, realtime.subscribe(granted))


async def connect(websocket: WebSocket) -> None:
    try:
        granted = _grants(websocket)
    except errors.MainspringError as exc:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(_refusal(exc))
        else:
            await websocket.close(WS_POLICY_VIOLATION, exc.message[:120])
        return
    await websocket_session(websocket, _realtime(websocket), granted)


routes: list[BaseRoute] = [
    Route("/v1/realtime/publish", publish, methods=["POST"]),
    Route("/v1/realtime/token", token, methods=["POST"]),
    Route("/v1/realtime/sse", sse, methods=["GET"]),
    WebSocketRoute("/v1/realtime/connect", connect),
]
