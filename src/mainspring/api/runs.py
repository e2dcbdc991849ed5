"""Reading runs: `GET /v1/runs` and `GET /v2/runs` with filters, cursor and a CEL `query`; one run
(`/v1/runs/{id}`, `/v2/runs/{id}`, with its metadata and defers), its trace (step spans with their
metadata and userland spans), steps, history and queue items."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse, not_found
from mainspring.api.rest import envelope
from mainspring.api.state import services
from mainspring.domain.durations import rfc3339
from mainspring.reads import sdk_data
from mainspring.reads.filters import parse_run_filter
from mainspring.reads.trace import spans


async def list_runs(request: Request) -> Response:
    """Filters: status (comma list), function_id, app_id, started_after / started_before,
    cursor, query (CEL over `event`), limit (1..1000, default 100). Bad ones → 400 naming them."""
    app = services(request)
    page = await app.reads.run_page(parse_run_filter(request.query_params))
    metadata = {
        "fetched_at": rfc3339(app.clock()),
        "cursor": page.cursor,
        "has_more": page.cursor is not None,
        "scanned": page.scanned,
    }
    return JSONResponse({"data": page.runs, "metadata": metadata})


async def get_run(request: Request) -> Response:
    run = await services(request).reads.run_detail(request.path_params["run_id"])
    if run is None:
        return not_found("run not found")
    return envelope(request, run)


async def run_trace(request: Request) -> Response:
    reads = services(request).reads
    run_id = request.path_params["run_id"]
    run = await reads.run_detail(run_id)
    if run is None:
        return not_found("run not found")
    state = await reads.state(run_id)
    steps = await reads.steps(run_id)
    history = await reads.history(run_id)
    userland = sdk_data.nest(await reads.userland_spans(run_id))
    step_spans = spans(steps, history)
    run_level = sdk_data.annotate_spans(step_spans, run["metadata"], userland)
    trace = {
        "run": run,
        "trigger": {"events": state.events if state else []},
        "spans": step_spans,
        "history": history,
        "userland": run_level,
    }
    return envelope(request, trace)


async def _of_known_run(request: Request, read: Callable[[str], Awaitable[Any]]) -> Response:
    """`read(run_id)` in the envelope, or 404 for a run that does not exist."""
    run_id = request.path_params["run_id"]
    if await services(request).reads.run(run_id) is None:
        return not_found("run not found")
    return envelope(request, await read(run_id))


async def run_steps(request: Request) -> Response:
    return await _of_known_run(request, services(request).reads.steps)


async def run_history(request: Request) -> Response:
    return await _of_known_run(request, services(request).reads.history)


async def run_jobs(request: Request) -> Response:
    return await _of_known_run(request, services(request).reads.jobs)


routes = [
    Route("/v1/runs", list_runs, methods=["GET"]),
    Route("/v2/runs", list_runs, methods=["GET"]),
    Route("/v1/runs/{run_id}", get_run, methods=["GET"]),
    Route("/v2/runs/{run_id}", get_run, methods=["GET"]),
    Route("/v2/runs/{run_id}/trace", run_trace, methods=["GET"]),
    Route("/v1/runs/{run_id}/steps", run_steps, methods=["GET"]),
    Route("/v1/runs/{run_id}/history", run_history, methods=["GET"]),
    Route("/v1/runs/{run_id}/jobs", run_jobs, methods=["GET"]),
]
