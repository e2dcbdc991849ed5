"""The one place that maps our errors to HTTP answers."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mainspring import codec, errors


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return codec.dumpb(content)


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """Go's shape `{error, status}`: the TypeScript SDK reads `status` from the body."""
    return {"error": message, "status": status, **{k: v for k, v in extra.items() if v is not None}}


def invalid_input(exc: errors.InvalidInput, **extra: Any) -> JSONResponse:
    body = error_body(exc.status, exc.message, code=exc.code, field=exc.field, index=exc.index)
    return JSONResponse({**body, **extra}, status_code=exc.status)


def not_found(message: str) -> JSONResponse:
    return JSONResponse(error_body(404, message, code="not_found"), status_code=404)


async def handle_store_error(request: Request, exc: Exception) -> Response:
    """The database is unreachable: nothing was committed, so the client should retry (SDKs do)."""
    body = error_body(503, "database unavailable; retry later", code="store_unavailable")
    return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """The router's own 404 and 405 (with `Allow`) in the JSON error shape, like every 4xx."""
    assert isinstance(exc, HTTPException)
    body = error_body(exc.status_code, exc.detail)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def handle_invalid_input(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.InvalidInput)
    return invalid_input(exc)
