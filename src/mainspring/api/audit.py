"""`GET /v1/audit`: the audit log, newest first, with filters and a cursor like `GET /v1/runs`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse
from mainspring.api.state import services
from mainspring.audit.listing import parse_filter
from mainspring.domain.durations import rfc3339


async def list_audit(request: Request) -> Response:
    """Filters: action, actor, target (a target id), since / until (RFC 3339 or epoch ms),
    cursor, limit (1..1000, default 100). Bad ones → 400 naming them."""
    app = services(request)
    page = await app.audit.page(parse_filter(request.query_params))
    metadata = {
        "fetched_at": rfc3339(app.clock()),
        "cursor": page.cursor,
        "has_more": page.cursor is not None,
    }
    return JSONResponse({"data": page.entries, "metadata": metadata})


routes = [Route("/v1/audit", list_audit, methods=["GET"])]
