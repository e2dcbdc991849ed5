"""`GET /v1/health` (summary + alert states), `GET /v1/metrics/functions/{id}?hours=24`,
Prometheus `GET /metrics`, the zombie check: `GET /v1/zombies` lists Running runs with
nothing queued, `POST /v1/zombies/repair` re-queues them now (both take `?grace=<seconds>`), and
alerts: `GET /v1/alerts` (channels, rule thresholds, states), `POST /v1/alerts/test`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.admin import json_body, optional_text
from mainspring.api.errors import JSONResponse, not_found
from mainspring.api.rest import envelope
from mainspring.api.state import services
from mainspring.domain.durations import rfc3339
from mainspring.operations.metrics import CONTENT_TYPE
from mainspring.settings import MAX_ZOMBIE_GRACE_S

MAX_HOURS = 24 * 90


async def health(request: Request) -> Response:
    app = services(request)
    found, components = app.supervisor.check()
    problems = [str(problem) for problem in found]
    if not (app.connector.healthy and await app.reads.database_ok()):
        database = {"ok": False, "dialect": app.connector.dialect}
        body = {"status": "unavailable", "database": database, "degraded": problems}
        return JSONResponse({"data": body, "metadata": {}}, status_code=503)
    summary = await app.operations.health()
    summary["database"] = {"ok": True, "dialect": app.connector.dialect}
    summary["components"] = components
    if problems:
        summary["status"] = "degraded"
        summary["degraded"] = problems
    summary["checked_at"] = rfc3339(app.clock())
    return envelope(request, summary)


def _hours(request: Request) -> float:
    text = request.query_params.get("hours", "24")
    try:
        hours = float(text)
    except ValueError:
        hours = -1
    if not 0 < hours <= MAX_HOURS:
        raise errors.InvalidInput(f"hours must be a number in (0, {MAX_HOURS}]", field="hours")
    return hours


async def function_metrics(request: Request) -> Response:
    app = services(request)
    slug = request.path_params["function_id"]
    hours = _hours(request)
    if app.registry.get(slug) is None:
        return not_found(f"function {slug} not found")
    return envelope(request, await app.operations.insights.function_metrics(slug, hours))


def _grace(request: Request) -> float | None:
    text = request.query_params.get("grace")
    if text is None:
        return None
    try:
        grace = float(text)
    except ValueError:
        grace = -1
    if not 0 <= grace <= MAX_ZOMBIE_GRACE_S:
        message = f"grace must be seconds in [0, {MAX_ZOMBIE_GRACE_S}]"
        raise errors.InvalidInput(message, field="grace")
    return grace


async def zombies(request: Request) -> Response:
    found = await services(request).operations.zombies.find(_grace(request))
    rows = [{"run_id": row["id"], "function_id": row["function_slug"]} for row in found]
    return envelope(request, rows)


async def repair_zombies(request: Request) -> Response:
    repaired = await services(request).operations.zombies.check_once(_grace(request))
    return envelope(request, {"repaired": repaired})


async def prometheus(request: Request) -> Response:
    body = await services(request).operations.metrics.render()
    return Response(body, media_type=CONTENT_TYPE)


async def alerts(request: Request) -> Response:
    operations = services(request).operations
    return envelope(request, await operations.alerts.overview())


async def test_alert(request: Request) -> Response:
    channel = optional_text(await json_body(request), "channel", max_length=40)
    return envelope(request, await services(request).operations.alerts.send_test(channel))


routes = [
    Route("/v1/health", health, methods=["GET"]),
    Route("/v1/metrics/functions/{function_id}", function_metrics, methods=["GET"]),
    Route("/metrics", prometheus, methods=["GET"]),
    Route("/v1/zombies", zombies, methods=["GET"]),
    Route("/v1/zombies/repair", repair_zombies, methods=["POST"]),
    Route("/v1/alerts", alerts, methods=["GET"]),
    Route("/v1/alerts/test", test_alert, methods=["POST"]),
]
