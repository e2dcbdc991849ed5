"""Durable endpoints' routes: the SDK's sync checkpoints and the run output a caller polls.

`POST /v1/checkpoint` (start a run), `POST /v1/checkpoint/{run}/steps` (signing-key bearer in
production, like every SDK call), and `GET /v1/http/runs/{run}/output?token=` (also under
`/v1/checkpoint/{run}/output`), which answers with the token alone: it is where the SDK
redirects the endpoint's caller once the run went on asynchronously. A streaming endpoint's
output goes through `api/realtime_tee.py` instead.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.body import read_json
from mainspring.api.errors import JSONResponse, error_body, invalid_input
from mainspring.api.state import Services, environments, services
from mainspring.protocol import endpoints as wire
from mainspring.protocol import run_tokens
from mainspring.realtime.messages import STREAM_TOPIC, Topic

OUTPUT_WAIT_S = 300.0  # Inngest's CheckpointOutputWaitMax
STREAM_TOKEN_TTL_S = 16 * 60  # Inngest: the longest an endpoint streams (15 min), plus a minute
POLL_FIRST_S, POLL_MAX_S = 0.05, 1.0  # read the run again after this long, doubling


async def _json(request: Request) -> object:
    return await read_json(request, services(request).settings.max_reply_bytes)


async def new_run(request: Request) -> Response:
    app = services(request)
    try:
        started = await app.endpoints.start(await _json(request))
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    now_s = int(time.time())
    tokens = app.run_tokens
    return JSONResponse(
        {
            "data": {
                "fn_id": started.fn_id,
                "app_id": started.app_id,
                "run_id": started.run_id,
                "token": tokens.issue(started.run_id, run_tokens.OUTPUT, now_s),
                # Subscribes to the run's stream (what the SDK tees to `$stream` of the channel
                # named by the run id): the SDK sends its caller to `/v1/realtime/sse` with it.
                "realtime_token": app.realtime.token(
                    [Topic(started.run_id, STREAM_TOPIC)], STREAM_TOKEN_TTL_S
                ),
            }
        }
    )


async def checkpoint_steps(request: Request) -> Response:
    app = services(request)
    run_id = request.path_params["run_id"]
    try:
        found = await app.endpoints.checkpoint(run_id, await _json(request))
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    if not found:
        return JSONResponse(error_body(404, "run not found"), status_code=404)
    return JSONResponse({})


async def run_output(request: Request) -> Response:
    """The run's result once it ended (waiting up to 5 minutes): the endpoint's own response
    (status, headers, body) when it completed, 500 with the error when it failed."""
    run_id = request.path_params["run_id"]
    app = await _owner(request, run_id)
    if app is None:
        body = error_body(401, "Unable to find run with auth token", code="unauthorized")
        return JSONResponse(body, status_code=401)
    deadline, pause = time.monotonic() + OUTPUT_WAIT_S, POLL_FIRST_S
    while (run := await app.reads.run(run_id)) is not None and run["status"] == "Running":
        if time.monotonic() >= deadline:
            message = f"run did not end within {int(OUTPUT_WAIT_S // 60)} minutes"
            return JSONResponse({"status": "running", "message": message}, status_code=202)
        await asyncio.sleep(pause)
        pause = min(pause * 2, POLL_MAX_S)
    if run is None:
        return JSONResponse(error_body(404, "run not found", code="not_found"), status_code=404)
    if run["status"] != "Completed":
        body = {"status": str(run["status"]).lower(), "error": run["output"]}
        return JSONResponse(body, status_code=500)
    response = wire.response_of(run["output"])
    if response is None:
        return JSONResponse(run["output"])
    return Response(response.body, status_code=response.status, headers=response.headers)


async def _owner(request: Request, run_id: str) -> Services | None:
    """The environment whose token grants `run_id` and that has the run: the request's first
    (the caller follows the SDK's redirect, which names no environment)."""
    token, now_s = request.query_params.get("token"), int(time.time())
    own = services(request)
    others = [found for _, found in environments(request).all_services() if found is not own]
    granted = [
        candidate
        for candidate in (own, *others)
        if candidate.run_tokens.verify(token, run_tokens.OUTPUT, now_s) == run_id
    ]
    for candidate in granted:
        if await candidate.reads.run(run_id) is not None:
            return candidate
    return granted[0] if granted else None


routes = [
    Route("/v1/checkpoint", new_run, methods=["POST"]),
    Route("/v1/checkpoint/{run_id}/steps", checkpoint_steps, methods=["POST"]),
    Route("/v1/checkpoint/{run_id}/output", run_output, methods=["GET"]),
    Route("/v1/http/runs/{run_id}/output", run_output, methods=["GET"]),
]
