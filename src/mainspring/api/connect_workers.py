"""`GET /v1/connect/workers`: the Connect workers dialled in to this process (an API read, with
the read scope in production). Each process lists its own: a worker holds one socket to one
process."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse
from mainspring.api.state import services
from mainspring.connect.hub import Worker
from mainspring.domain.durations import rfc3339


def worker_view(worker: Worker) -> dict[str, Any]:
    return {
        "connection_id": worker.connection_id,
        "instance_id": worker.instance_id,
        "apps": list(worker.apps),
        "sdk": worker.sdk,
        "connected_at": rfc3339(int(worker.connected_at * 1000)),
        "last_heartbeat_at": rfc3339(int(worker.last_heartbeat * 1000)),
        "in_flight": len(worker.in_flight),
        "capacity": worker.capacity,
    }


async def list_workers(request: Request) -> Response:
    workers = services(request).connect.workers()
    return JSONResponse({"data": [worker_view(worker) for worker in workers]})


routes = [Route("/v1/connect/workers", list_workers, methods=["GET"])]
