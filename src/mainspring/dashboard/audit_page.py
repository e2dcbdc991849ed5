"""The Audit page (`/audit`) and its rows fragment: `GET /v1/audit`'s filters, 50 per page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mainspring import audit, errors
from mainspring.api.state import services
from mainspring.audit.listing import parse_filter
from mainspring.dashboard.render import page
from mainspring.dashboard.views import pretty_params

PAGE_SIZE = 50


async def _context(request: Request) -> tuple[dict[str, object], int]:
    params = request.query_params
    context: dict[str, object] = {
        "params": params,
        "actions": audit.ACTIONS,
        "qs": pretty_params(params),
        "live": "cursor" not in params,
        "entries": [],
    }
    try:
        where = parse_filter({"limit": str(PAGE_SIZE), **params})
    except errors.InvalidInput as exc:
        context.update(filter_error=exc.message, filter_field=exc.field, live=False)
        return context, 400
    found = await services(request).audit.page(where)
    context["entries"] = found.entries
    context["next_qs"] = pretty_params(params, cursor=found.cursor) if found.cursor else None
    return context, 200


async def audit_log(request: Request) -> Response:
    context, status = await _context(request)
    return page(request, "pages/audit.html", context, status)


async def audit_rows(request: Request) -> Response:
    context, status = await _context(request)
    return page(request, "partials/audit_rows.html", context, status)


routes: list[BaseRoute] = [
    Route("/audit", audit_log, methods=["GET"]),
    Route("/ui/audit/rows", audit_rows, methods=["GET"]),
]
