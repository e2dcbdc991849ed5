"""`GET /health`: liveness plus a few numbers an operator wants first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse
from mainspring.api.state import services


async def health(request: Request) -> Response:
    app = services(request)
    healthy = app.connector.healthy and await app.reads.database_ok()
    status = 200 if healthy else 503
    return JSONResponse(
        {
            "status": status,
            "message": "OK" if healthy else "degraded: database unavailable",
            "database": app.connector.dialect,
            "mode": app.settings.server_kind,
            "functions": len(app.registry.functions()),
            "database_work": app.connector.stats(),
        },
        status_code=status,
    )


routes = [Route("/health", health, methods=["GET"])]
