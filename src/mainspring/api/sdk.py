"""Routes the SDKs call: `POST /fn/register`, the `use_api` reads, checkpoints, and `GET /dev`."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.body import read_json, read_limited
from mainspring.api.dev_info import dev_info
from mainspring.api.errors import JSONResponse, error_body, invalid_input
from mainspring.api.state import env_name, environments, services
from mainspring.domain.ids import new_uuid
from mainspring.runs import checkpoints


async def register(request: Request) -> Response:
    try:
        # a sync naming a new environment adds it (branch environments on), else 404
        await environments(request).ensure_branch(env_name(request))
        app = services(request)
        raw = await read_limited(request, app.settings.max_body_bytes)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise errors.InvalidFunctionConfig("body is not valid JSON", field="body") from None
        result = await app.sync.register(
            body, request.headers.get("x-inngest-expected-server-kind")
        )
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    return JSONResponse(
        {"ok": True, "modified": result.modified, "app_id": result.app_id, "sync_id": new_uuid()}
    )


async def run_actions(request: Request) -> Response:
    """`use_api`: the memoized steps of a run, as the `steps` map of a call request."""
    state = await services(request).reads.state(request.path_params["run_id"])
    if state is None:
        return JSONResponse(error_body(404, "run not found"), status_code=404)
    return JSONResponse(state.steps)


async def run_batch(request: Request) -> Response:
    """`use_api`: the run's trigger events, as the `events` list of a call request."""
    state = await services(request).reads.state(request.path_params["run_id"])
    if state is None:
        return JSONResponse(error_body(404, "run not found"), status_code=404)
    return JSONResponse(state.events)


async def checkpoint_async(request: Request) -> Response:
    """TypeScript SDK v4: steps finished during a call, reported before the call returns."""
    app = services(request)
    run_id = request.path_params["run_id"]
    try:
        body = await read_json(request, app.settings.max_reply_bytes)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    accepted = await checkpoints.checkpoint(
        app.connector, app.checkpoints, run_id, body, app.clock()
    )
    if not accepted:
        return JSONResponse(error_body(409, "run is not running"), status_code=409)
    return JSONResponse({})


routes = [
    Route("/fn/register", register, methods=["POST"]),
    Route("/dev", dev_info, methods=["GET"]),
    Route("/v0/runs/{run_id}/actions", run_actions, methods=["GET"]),
    Route("/v0/runs/{run_id}/batch", run_batch, methods=["GET"]),
    Route("/v1/checkpoint/{run_id}/async", checkpoint_async, methods=["POST"]),
]
