"""Listing and inspecting runs: `GET /v1/runs` and `GET /v2/runs` with filters, cursor and a CEL
`query`; `GET /v2/runs/{id}`, `GET /v2/runs/{id}/trace`, `GET /v1/runs/{id}/jobs`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse, not_found
from mainspring.api.rest import envelope
from mainspring.api.state import services
from mainspring.domain.durations import rfc3339
from mainspring.run_filters import parse_run_filter
from mainspring.traces import spans


async def list_runs(request: Request) -> Response:
    """Filters: status (comma list), function_id, app_id, started_after / started_before,
    cursor, query (CEL over `event`), limit (1..1000, default 100). Bad ones → 400 naming them."""
    app = services(request)
    flt = parse_run_filter(request.query_params)
    page = await app.operations.run_lists.list(flt)
    metadata = {
        "fetched_at": rfc3339(app.clock()),
        "cursor": page.cursor,
        "has_more": page.cursor is not None,
        "scanned": page.scanned,
    }
    return JSONResponse({"data": page.runs, "metadata": metadata})


async def get_run(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    run = await services(request).operations.run_detail(run_id)
    if run is None:
        return not_found("run not found")
    return envelope(request, run)


async def run_trace(request: Request) -> Response:
    app = services(request)
    run_id = request.path_params["run_id"]
    run = await app.operations.run_detail(run_id)
    if run is None:
        return not_found("run not found")
    state = await app.reads.state(run_id)
    steps = await app.reads.steps(run_id)
    history = await app.reads.history(run_id)
    trace = {
        "run": run,
        "trigger": {"events": state.events if state else []},
        "spans": spans(steps, history),
        "history": history,
    }
    return envelope(request, trace)


async def run_jobs(request: Request) -> Response:
    app = services(request)
    run_id = request.path_params["run_id"]
    if await app.reads.run(run_id) is None:
        return not_found("run not found")
    return envelope(request, await app.operations.run_jobs(run_id))


routes = [
    Route("/v1/runs", list_runs, methods=["GET"]),
    Route("/v2/runs", list_runs, methods=["GET"]),
    Route("/v2/runs/{run_id}", get_run, methods=["GET"]),
    Route("/v2/runs/{run_id}/trace", run_trace, methods=["GET"]),
    Route("/v1/runs/{run_id}/jobs", run_jobs, methods=["GET"]),
]
