"""`POST /v1/runs/{run_id}/metadata {target, metadata: [{kind, op, values}]}`: the SDKs' route for
run metadata set outside a step (`inngest.metadata.set()`, `.run(id)`, `.step(id)`), as Inngest's
v1 API takes it. Read back in the run (`GET /v1/runs/{id}`), its trace and GraphQL."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.body import read_json
from mainspring.api.errors import JSONResponse, invalid_input, not_found
from mainspring.api.state import services
from mainspring.domain import metadata
from mainspring.runs import run_metadata as metadata_service

MAX_BODY_BYTES = 2 * metadata.MAX_UPDATE_BYTES * metadata.MAX_UPDATES_PER_REQUEST


async def add_metadata(request: Request) -> Response:
    app = services(request)
    run_id = request.path_params["run_id"]
    try:
        body = await read_json(request, min(app.settings.max_body_bytes, MAX_BODY_BYTES))
        stored = await metadata_service.add(app.connector, run_id, body, app.clock())
    except errors.NotFound as exc:
        return not_found(exc.message)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    return JSONResponse({"data": {"run_id": run_id, "updates": stored}})


routes = [Route("/v1/runs/{run_id}/metadata", add_metadata, methods=["POST"])]
