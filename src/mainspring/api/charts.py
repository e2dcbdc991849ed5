"""The charts' numbers as JSON: `GET /v1/functions/{id}/stats?window=hour|day|week` (runs per
interval, p50/p95, per-step distribution and failure rate) and `GET /v1/operations/stats?window=`
(queue depth, ready lag, in-flight calls, dead letters). The dashboard draws the same dicts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import not_found
from mainspring.api.rest import envelope
from mainspring.api.state import services
from mainspring.operations.stats import parse_window


async def function_stats(request: Request) -> Response:
    app = services(request)
    slug = request.path_params["function_id"]
    window = parse_window(request.query_params.get("window"))
    if app.registry.get(slug) is None:
        return not_found(f"function {slug} not found")
    return envelope(request, await app.operations.stats.function(slug, window))


async def system_stats(request: Request) -> Response:
    window = parse_window(request.query_params.get("window"))
    return envelope(request, await services(request).operations.stats.system(window))


routes = [
    Route("/v1/functions/{function_id}/stats", function_stats, methods=["GET"]),
    Route("/v1/operations/stats", system_stats, methods=["GET"]),
]
