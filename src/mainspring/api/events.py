"""The event API: `POST /e/{key}` and `POST /v1/events` (key as a bearer token)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors, ingest
from mainspring.api.body import read_limited
from mainspring.api.errors import JSONResponse, error_body, invalid_input
from mainspring.api.state import services


async def _accept(request: Request, key: str) -> Response:
    if not key:
        return JSONResponse(error_body(401, "Event key is required"), status_code=401)
    app = services(request)
    try:
        body = await read_limited(request, app.settings.max_body_bytes)
        raw_events = ingest.parse_body(body)
        ids = await app.ingest.accept(
            raw_events, app.clock(), id_seed=request.headers.get("x-inngest-event-id-seed")
        )
    except errors.InvalidInput as exc:
        return invalid_input(exc, ids=[])
    return JSONResponse({"ids": ids, "status": 200})


async def post_event(request: Request) -> Response:
    return await _accept(request, request.path_params["key"])


async def post_v1_events(request: Request) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return await _accept(request, token.strip() if scheme.lower() == "bearer" else "")


routes = [
    Route("/e/{key}", post_event, methods=["POST"]),
    Route("/v1/events", post_v1_events, methods=["POST"]),
]
