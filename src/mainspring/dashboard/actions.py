"""The dashboard's state changes (POST under `/ui/...`): send an event, invoke, cancel, sync.

Each answers an HTML fragment that htmx swaps in place (a result line or an inline error).
Validation errors are shown next to the form and answered 4xx (the layout's htmx config swaps
error answers too, so the message lands inline).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mainspring import errors
from mainspring.api.body import read_limited
from mainspring.api.state import services
from mainspring.dashboard.render import page
from mainspring.domain.events import FUNCTION_INVOKED
from mainspring.ingest import emit_unit
from mainspring.sync import UrlState, normalize_url

MAX_FORM_BYTES = 1024 * 1024


def _notice(
    request: Request, message: str, *, ok: bool, status: int = 200, **extra: Any
) -> Response:
    context = {"message": message, "ok": ok, **extra}
    return page(request, "partials/notice.html", context, status)


def _json_field(text: str, field: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise errors.InvalidInput(
            f"{field}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
            field=field,
        ) from None


async def form_lists(request: Request) -> dict[str, list[str]]:
    """An url-encoded form (what htmx and plain forms send); no multipart dependency needed."""
    body = await read_limited(request, MAX_FORM_BYTES)
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


async def _form(request: Request) -> dict[str, str]:
    return {key: values[-1] for key, values in (await form_lists(request)).items()}


async def send_event(request: Request) -> Response:
    app = services(request)
    text = (await _form(request)).get("payload", "")
    try:
        payload = _json_field(text, "payload")
        raw = payload if isinstance(payload, list) else [payload]
        ids = await app.ingest.accept(raw, app.clock())
    except errors.InvalidInput as exc:
        where = f" (event {exc.index}, field {exc.field})" if exc.index is not None else ""
        return _notice(request, f"{exc.message}{where}", ok=False, status=400)
    return _notice(request, f"Sent {len(ids)} event(s)", ok=True, event_ids=ids)


async def invoke(request: Request) -> Response:
    app = services(request)
    slug = request.path_params["function_id"]
    if app.registry.get(slug) is None:
        return _notice(request, f"unknown function {slug}", ok=False, status=404)
    text = (await _form(request)).get("data", "") or "{}"
    try:
        data = _json_field(text, "data")
        if not isinstance(data, dict):
            raise errors.InvalidInput("data must be a JSON object", field="data")
    except errors.InvalidInput as exc:
        return _notice(request, exc.message, ok=False, status=400)
    event = {"name": FUNCTION_INVOKED, "data": {**data, "_inngest": {"fn_id": slug}}, "user": {}}
    ids = await app.ingest.run_unit(emit_unit([event], app.registry, app.clock()))
    return _notice(request, f"Invoked {slug}", ok=True, event_ids=ids)


async def cancel_run(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    status = await services(request).cancellations.cancel_run(run_id)
    if status is None:
        return _notice(request, "run not found", ok=False, status=404)
    return _notice(request, f"Run is {status}", ok=True)


async def sync_app(request: Request) -> Response:
    sync = services(request).sync
    url = (await _form(request)).get("url", "").strip()
    if not url:
        return _notice(request, "url: enter the app's serve URL", ok=False, status=400)
    url = normalize_url(url)
    state = sync.urls.setdefault(url, UrlState(url))
    await sync.sync_url(state)
    if state.error:
        return _notice(request, f"Sync of {url} failed: {state.error}", ok=False, status=502)
    return _notice(request, f"Synced {url}", ok=True)


async def function_controls(request: Request, slug: str) -> dict[str, Any]:
    """Pause state of a function, once the pause service (issue 7 part B) is merged."""
    return {"pause": None}


async def operations_controls(request: Request) -> dict[str, Any]:
    """Kill switch and alert state, once the operations services (issue 7 part B) are merged."""
    return {"kill_switch": None, "health": None}


routes: list[BaseRoute] = [
    Route("/ui/events/send", send_event, methods=["POST"]),
    Route("/ui/functions/{function_id}/invoke", invoke, methods=["POST"]),
    Route("/ui/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
    Route("/ui/apps/sync", sync_app, methods=["POST"]),
]
