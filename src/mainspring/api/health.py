"""`GET /health`: liveness plus a few numbers an operator wants first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse
from mainspring.api.state import services


async def health(request: Request) -> Response:
    app = services(request)
    return JSONResponse(
        {
            "status": 200,
            "message": "OK",
            "mode": app.settings.server_kind,
            "functions": len(app.registry.functions()),
        }
    )


routes = [Route("/health", health, methods=["GET"])]
