"""Functions over HTTP: the synced set (`GET /v1/functions`, one function) and their live
flow-control overrides (`GET/PUT/DELETE /v1/functions/{id}/overrides`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.admin import json_body, optional_text
from mainspring.api.errors import not_found
from mainspring.api.rest import envelope
from mainspring.api.state import Services, services
from mainspring.domain.functions import FunctionDef
from mainspring.registry import overrides


def _summary(function: FunctionDef, paused: set[str]) -> dict[str, Any]:
    return {
        "function_id": function.slug,
        "name": function.name,
        "app_id": function.app_id,
        "triggers": [
            {"event": t.event, "expression": t.expression, "cron": t.cron}
            for t in function.triggers
        ],
        "paused": function.slug in paused,
        "flow": overrides.describe(function),
    }


async def _paused(app: Services) -> set[str]:
    return {state["function_id"] for state in await app.operations.pausing.list_paused()}


async def list_functions(request: Request) -> Response:
    app = services(request)
    paused = await _paused(app)
    listed = sorted(app.registry.functions(), key=lambda function: function.slug)
    return envelope(request, [_summary(function, paused) for function in listed])


async def get_function(request: Request) -> Response:
    app = services(request)
    function = await app.registry.find(request.path_params["function_id"])
    if function is None:
        return not_found("function not found")
    return envelope(request, _summary(function, await _paused(app)))


async def get_overrides(request: Request) -> Response:
    function = await services(request).registry.find(request.path_params["function_id"])
    if function is None:
        return not_found("function not found")
    return envelope(request, overrides.describe(function))


async def _replace(request: Request, body: dict[str, Any]) -> Response:
    app = services(request)
    by = optional_text(body, "requested_by")
    wanted = {key: value for key, value in body.items() if key != "requested_by"}
    slug = request.path_params["function_id"]
    try:
        function = await app.registry.set_overrides(slug, wanted, app.clock(), updated_by=by)
    except errors.NotFound as exc:
        return not_found(exc.message)
    return envelope(request, overrides.describe(function))


async def put_overrides(request: Request) -> Response:
    """Replace every override with the body's (absent or null fields: the synced value)."""
    if await services(request).registry.find(request.path_params["function_id"]) is None:
        return not_found("function not found")
    return await _replace(request, await json_body(request))


async def delete_overrides(request: Request) -> Response:
    body = await json_body(request)
    return await _replace(request, {"requested_by": body.get("requested_by")})


routes = [
    Route("/v1/functions", list_functions, methods=["GET"]),
    Route("/v1/functions/{function_id}", get_function, methods=["GET"]),
    Route("/v1/functions/{function_id}/overrides", get_overrides, methods=["GET"]),
    Route("/v1/functions/{function_id}/overrides", put_overrides, methods=["PUT"]),
    Route("/v1/functions/{function_id}/overrides", delete_overrides, methods=["DELETE"]),
]
