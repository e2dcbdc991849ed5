"""The event API: `POST /e/{key}` and `POST /v1/events` (key as a bearer token)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.body import read_limited
from mainspring.api.errors import JSONResponse, error_body, invalid_input
from mainspring.api.state import env_name, environments, services
from mainspring.ingest import events as ingest_input
from mainspring.ingest.invoking import invoke_unit


async def _accept(request: Request, key: str) -> Response:
    if not key:
        return JSONResponse(error_body(401, "Event key is required"), status_code=401)
    app = services(request)
    environments(request).touch(env_name(request))
    try:
        body = await read_limited(request, app.settings.max_events_body_bytes)
        raw_events = ingest_input.parse_body(body)
        if len(body) > app.settings.max_event_bytes:  # else no event can be over the limit
            ingest_input.check_sizes(raw_events, app.settings.max_event_bytes)
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


async def invoke(request: Request) -> Response:
    """`POST /invoke/{function slug}`: start exactly that function with the given data."""
    app = services(request)
    slug = request.path_params["slug"]
    if app.registry.get(slug) is None:
        return JSONResponse(error_body(404, f"function {slug} not found"), status_code=404)
    try:
        raw = ingest_input.parse_body(await read_limited(request, app.settings.max_body_bytes))
        if len(raw) != 1 or not isinstance(raw[0], dict):
            raise errors.InvalidInput("the body must be one JSON object", field="body")
        data = raw[0].get("data", {})
        if not isinstance(data, dict):
            raise errors.InvalidInput("data must be an object", field="data")
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    unit = invoke_unit(slug, data, raw[0].get("user"), app.registry, app.clock())
    ids = await app.ingest.run_unit(unit)
    return JSONResponse({"id": ids[0], "status": 200})


routes = [
    Route("/invoke/{slug}", invoke, methods=["POST"]),
    Route("/e/{key}", post_event, methods=["POST"]),
    Route("/v1/events", post_v1_events, methods=["POST"]),
]
