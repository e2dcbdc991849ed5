"""Reading events in Inngest's shapes (`/v1/events`), and the `{data, metadata}` envelope that
every read route answers with (runs: `api/runs.py`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse, not_found
from mainspring.api.state import services
from mainspring.domain.durations import rfc3339
from mainspring.reads.events import parse_event_filter

DEFAULT_LIMIT = 100


def envelope(request: Request, data: Any) -> JSONResponse:
    fetched_at = rfc3339(services(request).clock())
    return JSONResponse({"data": data, "metadata": {"fetched_at": fetched_at}})


def limit_of(request: Request) -> int:
    text = request.query_params.get("limit", "")
    return int(text) if text.isdigit() else DEFAULT_LIMIT


async def list_events(request: Request) -> Response:
    """`name`, `received_after`, `received_before`, `cursor`, `limit` (protocol §8)."""
    app = services(request)
    flt = parse_event_filter(request.query_params)
    found, cursor = await app.reads.event_page(flt)
    metadata = {"fetched_at": rfc3339(app.clock()), "cursor": cursor, "has_more": bool(cursor)}
    return JSONResponse({"data": found, "metadata": metadata})


async def get_event(request: Request) -> Response:
    event = await services(request).reads.event(request.path_params["event_id"])
    if event is None:
        return not_found("event not found")
    return envelope(request, event)


async def event_runs(request: Request) -> Response:
    runs = await services(request).reads.runs(event_id=request.path_params["event_id"])
    return envelope(request, runs)


routes = [
    Route("/v1/events", list_events, methods=["GET"]),
    Route("/v1/events/{event_id}", get_event, methods=["GET"]),
    Route("/v1/events/{event_id}/runs", event_runs, methods=["GET"]),
]
