"""Dashboard pages (`/runs`, `/events`, …) and their htmx fragments under `/ui/...`.

Pages render fully on the server; the parts that change while a page is open (run rows, a running
run's timeline, the event stream, operations) are fragments that htmx polls. State changes are
POSTs (see `actions.py`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from mainspring import errors
from mainspring.api.state import services
from mainspring.dashboard import actions, audit_page, chart_views, environment, overrides, views
from mainspring.dashboard.render import HERE, page
from mainspring.operations.stats import Window, parse_window
from mainspring.reads.filters import RunFilter, parse_run_filter

PAGE_SIZE = 50
# the composition root installs it for `errors.UnknownEnvironment` (a stale dashboard cookie)
forget_stale_env = environment.forget_stale
DEAD_LETTERS = 100


async def home(request: Request) -> Response:
    return RedirectResponse("/runs", status_code=302)


async def _runs_context(request: Request) -> tuple[dict[str, object], int]:
    """The Runs page takes the same query parameters as `GET /v1/runs` (50 per page here)."""
    params = request.query_params
    app = services(request)
    context: dict[str, object] = {
        "params": params,
        "functions": [f.slug for f in app.registry.functions()],
        "apps": sorted(row["name"] for row in await app.reads.apps()),
        "statuses": ["Running", "Completed", "Failed", "Cancelled"],
        "qs": views.pretty_params(params),
    }
    try:
        where = parse_run_filter({"limit": str(PAGE_SIZE), **params})
    except errors.InvalidInput as exc:
        context.update(filter_error=exc.message, filter_field=exc.field, result=None)
        return context, 400
    result = await views.runs_page(app, where)
    context["result"] = result
    context["next_qs"] = (
        views.pretty_params(params, cursor=result.cursor) if result.cursor else None
    )
    # a CEL scan that stopped early: fewer matches than a page, but more runs to look at
    context["scan_stopped"] = bool(where.query and result.cursor and len(result.runs) < where.limit)
    context["live"] = "cursor" not in params
    return context, 200


async def runs(request: Request) -> Response:
    context, status = await _runs_context(request)
    return page(request, "pages/runs.html", context, status)


async def runs_rows(request: Request) -> Response:
    context, status = await _runs_context(request)
    return page(request, "partials/run_rows.html", context, status)


async def run_detail(request: Request) -> Response:
    detail = await views.run_detail(services(request), request.path_params["run_id"])
    if detail is None:
        return page(request, "pages/not_found.html", {"what": "run"}, 404)
    return page(request, "pages/run.html", detail)


async def run_detail_fragment(request: Request) -> Response:
    detail = await views.run_detail(services(request), request.path_params["run_id"])
    if detail is None:
        return page(request, "pages/not_found.html", {"what": "run"}, 404)
    return page(request, "partials/run_body.html", detail)


async def _events_context(request: Request) -> tuple[dict[str, object], int]:
    """The Events page takes the query parameters of `GET /v1/events` (50 per page here)."""
    params = request.query_params
    context: dict[str, object] = {
        "name": params.get("name", ""),
        "qs": views.pretty_params(params),
        "live": "cursor" not in params,
        "events": [],
    }
    try:
        found, cursor = await views.events_page(services(request), params)
    except errors.InvalidInput as exc:
        context.update(filter_error=exc.message, filter_field=exc.field, live=False)
        return context, 400
    context["events"] = found
    context["next_qs"] = views.pretty_params(params, cursor=cursor) if cursor else None
    return context, 200


async def events(request: Request) -> Response:
    context, status = await _events_context(request)
    return page(request, "pages/events.html", context, status)


async def events_rows(request: Request) -> Response:
    context, status = await _events_context(request)
    return page(request, "partials/event_rows.html", context, status)


async def event_detail(request: Request) -> Response:
    app = services(request)
    event = await app.reads.event(request.path_params["event_id"])
    if event is None:
        return page(request, "pages/not_found.html", {"what": "event"}, 404)
    found = await app.reads.runs(event_id=event["internal_id"])
    return page(request, "pages/event.html", {"event": event, "runs": found})


async def functions(request: Request) -> Response:
    found = await views.functions_page(services(request))
    return page(request, "pages/functions.html", {"functions": found})


async def function_detail(request: Request) -> Response:
    app = services(request)
    function = app.registry.get(request.path_params["function_id"])
    if function is None:
        return page(request, "pages/not_found.html", {"what": "function"}, 404)
    summary = views.function_summary(function)
    stats = await views.function_day(app, function.slug)
    recent = await views.runs_page(app, RunFilter(function_slug=function.slug, limit=20))
    context = {
        "function": summary,
        "stats": stats,
        "recent": recent.runs,
        "overrides": overrides.context(function),
    }
    context["charts"] = await chart_views.function_charts(app, function.slug, _window(request))
    context.update(await actions.function_controls(request, function.slug))
    return page(request, "pages/function.html", context)


def _window(request: Request) -> Window:
    """The chart window of `?window=`; an unknown one shows the hour rather than an error."""
    try:
        return parse_window(request.query_params.get("window"))
    except errors.InvalidInput:
        return parse_window(None)


async def function_charts(request: Request) -> Response:
    app = services(request)
    function = app.registry.get(request.path_params["function_id"])
    if function is None:
        return page(request, "pages/not_found.html", {"what": "function"}, 404)
    context = await chart_views.function_charts(app, function.slug, _window(request))
    return page(request, "partials/function_charts.html", {"c": context})


async def system_charts(request: Request) -> Response:
    context = await chart_views.system_charts(services(request), _window(request))
    return page(request, "partials/system_charts.html", {"c": context})


async def apps(request: Request) -> Response:
    return page(request, "pages/apps.html", {"apps": await views.apps_page(services(request))})


async def _operations_context(request: Request) -> dict[str, object]:
    app = services(request)
    failed = await views.runs_page(app, RunFilter(statuses=("Failed",), limit=DEAD_LETTERS))
    context: dict[str, object] = {
        "health": await app.operations.health(),
        "failed": failed.runs,
    }
    context.update(await actions.operations_controls(request))
    return context


async def operations(request: Request) -> Response:
    context = await _operations_context(request)
    context["charts"] = await chart_views.system_charts(services(request), _window(request))
    return page(request, "pages/operations.html", context)


async def operations_panel(request: Request) -> Response:
    return page(request, "partials/operations_panel.html", await _operations_context(request))


async def switch_environment(request: Request) -> Response:
    """The header's environment switcher (see `environment.py`)."""
    switched = environment.switch(request)
    if switched is None:
        what = f"environment {request.query_params.get('env', '')!r}"
        return page(request, "pages/not_found.html", {"what": what}, 404)
    return switched


routes: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/runs", runs, methods=["GET"]),
    Route("/runs/{run_id}", run_detail, methods=["GET"]),
    Route("/events", events, methods=["GET"]),
    Route("/events/{event_id}", event_detail, methods=["GET"]),
    Route("/functions", functions, methods=["GET"]),
    Route("/functions/{function_id}", function_detail, methods=["GET"]),
    Route("/apps", apps, methods=["GET"]),
    Route("/operations", operations, methods=["GET"]),
    Route("/ui/runs/rows", runs_rows, methods=["GET"]),
    Route("/ui/runs/{run_id}/detail", run_detail_fragment, methods=["GET"]),
    Route("/ui/events/rows", events_rows, methods=["GET"]),
    Route("/ui/operations/panel", operations_panel, methods=["GET"]),
    Route("/ui/operations/charts", system_charts, methods=["GET"]),
    Route("/ui/functions/{function_id}/charts", function_charts, methods=["GET"]),
    *actions.routes,
    *audit_page.routes,
    *overrides.routes,
    Route("/environment", switch_environment, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
]
