"""`GET /v1/connect/workers`: the Connect workers dialled in to this process (an API read, with
the read scope in production). Each process lists its own: a worker holds one socket to one
process."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse
from mainspring.api.state import services
from mainspring.connect.hub import worker_view


async def list_workers(request: Request) -> Response:
    workers = services(request).connect.workers()
    return JSONResponse({"data": [worker_view(worker) for worker in workers]})


routes = [Route("/v1/connect/workers", list_workers, methods=["GET"])]
