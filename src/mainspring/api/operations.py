"""Run operations: cancel one run, bulk cancellations (protocol §8)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.body import read_json
from mainspring.api.errors import invalid_input, not_found
from mainspring.api.rest import envelope, limit_of
from mainspring.api.state import services
from mainspring.ingest import cancellation


async def cancel_run(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    status = await services(request).cancellations.cancel_run(run_id)
    if status is None:
        return not_found("run not found")
    return envelope(request, {"run_id": run_id, "status": status})


async def create_cancellation(request: Request) -> Response:
    app = services(request)
    try:
        body = await read_json(request, app.settings.max_body_bytes)
        bulk = cancellation.parse_bulk(body)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    created = await app.cancellations.bulk(bulk)
    response = envelope(request, created)
    response.status_code = 201
    return response


async def list_cancellations(request: Request) -> Response:
    found = await services(request).cancellations.list(limit_of(request))
    return envelope(request, found)


async def delete_cancellation(request: Request) -> Response:
    cancellation_id = request.path_params["cancellation_id"]
    if not await services(request).cancellations.delete(cancellation_id):
        return not_found("cancellation not found")
    return envelope(request, {"id": cancellation_id, "deleted": True})


routes = [
    Route("/v1/runs/{run_id}", cancel_run, methods=["DELETE"]),
    Route("/v0/runs/{run_id}", cancel_run, methods=["DELETE"]),
    Route("/v1/cancellations", create_cancellation, methods=["POST"]),
    Route("/v1/cancellations", list_cancellations, methods=["GET"]),
    Route("/v1/cancellations/{cancellation_id}", delete_cancellation, methods=["DELETE"]),
]
