"""The function page's live flow-control overrides: the form, next to the synced values, and
its POSTs (the registry call `PUT /v1/functions/{id}/overrides` makes)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mainspring import errors
from mainspring.api.state import services
from mainspring.dashboard.actions import form_lists
from mainspring.dashboard.render import page
from mainspring.domain.functions import FunctionDef
from mainspring.registry import overrides

SETTINGS = (
    ("concurrency", "Concurrency"),
    ("throttle", "Throttle"),
    ("rateLimit", "Rate limit"),
    ("priority", "Priority"),
)


def context(function: FunctionDef) -> dict[str, Any]:
    """What `partials/overrides.html` shows."""
    return {"slug": function.slug, "flow": overrides.describe(function), "settings": SETTINGS}


def _int(form: dict[str, str], name: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise errors.InvalidInput(f"{name}: a whole number", field=name)
    return int(text)


def _limit_period(form: dict[str, str], prefix: str) -> dict[str, Any] | None:
    limit, period = _int(form, f"{prefix}_limit"), form.get(f"{prefix}_period", "").strip()
    if limit is None and not period:
        return None
    shape: dict[str, Any] = {"limit": limit, "period": period or None}
    burst = _int(form, f"{prefix}_burst")
    if burst is not None:
        shape["burst"] = burst
    return shape


def body_of(form: dict[str, str]) -> dict[str, Any]:
    """The override body from the form's fields; an empty field keeps the synced value."""
    body: dict[str, Any] = {
        "concurrency": _int(form, "concurrency"),
        "throttle": _limit_period(form, "throttle"),
        "rateLimit": _limit_period(form, "rateLimit"),
    }
    priority = form.get("priority", "").strip()
    body["priority"] = {"run": priority} if priority else None
    return {key: value for key, value in body.items() if value is not None}


async def _change(request: Request, *, clearing: bool, done: str) -> Response:
    app = services(request)
    slug = request.path_params["function_id"]
    form = {key: values[-1] for key, values in (await form_lists(request)).items()}
    by = form.get("requested_by", "").strip() or None
    try:
        wanted = {} if clearing else body_of(form)
        function = await app.registry.set_overrides(slug, wanted, app.clock(), updated_by=by)
    except errors.NotFound:
        return page(request, "partials/notice.html", {"message": "unknown function"}, 404)
    except errors.InvalidInput as exc:
        known = app.registry.get(slug)
        if known is None:
            return page(request, "partials/notice.html", {"message": "unknown function"}, 404)
        shown = {**context(known), "error": exc.message}
        return page(request, "partials/overrides.html", shown, exc.status)
    return page(request, "partials/overrides.html", {**context(function), "message": done})


async def save(request: Request) -> Response:
    return await _change(request, clearing=False, done="Overrides saved: the next lease obeys them")


async def clear(request: Request) -> Response:
    return await _change(
        request, clearing=True, done="Overrides cleared: the synced config applies"
    )


routes: list[BaseRoute] = [
    Route("/ui/functions/{function_id}/overrides", save, methods=["POST"]),
    Route("/ui/functions/{function_id}/overrides/clear", clear, methods=["POST"]),
]
