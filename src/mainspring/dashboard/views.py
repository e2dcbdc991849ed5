"""Context builders: what each page shows, as plain dicts and lists (no HTTP, no SQL here)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from mainspring import errors
from mainspring.api.state import Services
from mainspring.connect.hub import worker_view
from mainspring.domain.durations import rfc3339
from mainspring.domain.functions import FunctionDef
from mainspring.operations.stats import WINDOWS
from mainspring.reads import sdk_data, trace
from mainspring.reads.events import parse_event_filter
from mainspring.reads.filters import RunFilter, ulid_floor
from mainspring.reads.runs import RunPage
from mainspring.reads.views import sdk_parts as sdk_parts

STATS_WINDOW_HOURS = 24
CHILD_WINDOW_MS = 5_000  # clock skew between a run id's time and its history entry
EVENTS_PAGE = 50


def human_ms(value: int | None) -> str:
    if value is None:
        return "—"
    if value < 1000:
        return f"{value} ms"
    if value < 60_000:
        return f"{value / 1000:.2f} s"
    minutes, seconds = divmod(value // 1000, 60)
    if minutes < 60:
        return f"{minutes} m {seconds} s"
    return f"{minutes // 60} h {minutes % 60} m"


async def runs_page(services: Services, where: RunFilter) -> RunPage:
    """The shared run listing (`reads.runs`, also behind `GET /v1/runs` and `/v2/runs`)."""
    return await services.reads.run_page(where)


async def run_detail(services: Services, run_id: str) -> dict[str, Any] | None:
    reads = services.reads
    run = await reads.run_detail(run_id)  # with original_run_id for reruns
    if run is None:
        return None
    history = await reads.history(run_id)
    steps = await reads.steps(run_id)
    state = await reads.state(run_id)
    events = state.events if state is not None else []
    line = trace.build(run, history, steps, services.clock())
    userland = sdk_data.nest(await reads.userland_spans(run_id))
    for step in line.steps:
        if step.kind == "invoke":
            step.detail["child_run_id"] = await _child_run(services, run_id, step)
        step.detail["metadata"] = sdk_data.of_step(run["metadata"], step.step_id)
        step.detail["spans"] = userland.pop(step.step_id, [])
    function = services.registry.get(run["function_id"])
    return {
        "run": run,
        "events": events,
        "timeline": line,
        "signal_wait": waiting_for_signal(run, line),
        "history": history,
        "function": function,
        "error": run["output"] if run["status"] == "Failed" else None,
        "run_metadata": sdk_data.of_step(run["metadata"], sdk_data.RUN),
        "run_spans": [span for roots in userland.values() for span in roots],
        "defers": run["defers"],
    }


def waiting_for_signal(run: dict[str, Any], line: trace.Timeline) -> trace.TimelineStep | None:
    """The step of a running run that waits for a signal (the page offers to send it), unless
    another run took the name over: the signal no longer reaches this one."""
    if run["status"] != "Running":
        return None
    waiting = (s for s in line.steps if s.kind == "signal" and s.status == "waiting")
    return next((s for s in waiting if not s.detail.get("replaced_by")), None)


async def _child_run(services: Services, run_id: str, step: trace.TimelineStep) -> str | None:
    """The run an invoke step started: the child's event names this run and step, and the
    child was created in the same transaction as the step's `step.invoking` entry."""
    slug = step.detail.get("function_id")
    if not isinstance(slug, str):
        return None
    query = (
        f"event.data._inngest.source_run_id == {json.dumps(run_id)} && "
        f"event.data._inngest.name == {json.dumps(step.name)}"
    )
    window = RunFilter(
        function_slug=slug,
        lower_id=ulid_floor(step.start - CHILD_WINDOW_MS),
        upper_id=ulid_floor(step.start + CHILD_WINDOW_MS),
        query=query,
        limit=1,
    )
    try:
        page = await runs_page(services, window)
    except errors.InvalidInput:  # a step name CEL cannot quote: no link rather than no page
        return None
    return page.runs[0]["run_id"] if page.runs else None


async def events_page(
    services: Services, params: Mapping[str, str]
) -> tuple[list[dict[str, Any]], str | None]:
    """The shared event listing (`GET /v1/events`), each event with the runs it started."""
    where = parse_event_filter({"limit": str(EVENTS_PAGE), **params})
    found, cursor = await services.reads.event_page(where)
    for event in found:
        event["runs"] = await services.reads.runs(event_id=event["internal_id"])
    return found, cursor


async def function_stats(services: Services, slug: str) -> dict[str, Any]:
    """Runs, success rate and durations of the last 24 h (`GET /v1/metrics/functions/{id}`)."""
    return await services.operations.insights.function_metrics(slug, STATS_WINDOW_HOURS)


async def function_day(services: Services, slug: str) -> dict[str, Any]:
    """The function page's last 24 hours, from the hourly rollups: as fast with a million runs
    as with ten (the Functions list still counts runs, exactly and up to the second)."""
    day = await services.operations.stats.function(slug, WINDOWS["day"])
    last = await services.operations.insights.last_success(slug)
    return {**day["totals"], "last_success_at": last}


def function_summary(function: FunctionDef) -> dict[str, Any]:
    config = function.config
    flow = {
        key: config[key]
        for key in ("concurrency", "throttle", "rateLimit", "debounce", "batchEvents", "priority")
        if config.get(key)
    }
    return {
        "slug": function.slug,
        "name": function.name,
        "app_id": function.app_id,
        "url": function.url,
        "triggers": [
            {"event": t.event, "expression": t.expression, "cron": t.cron}
            for t in function.triggers
        ],
        "retries": function.retries,
        "flow": flow,
        "cancel": [{"event": c.event, "if": c.expression} for c in function.cancel],
    }


async def functions_page(services: Services) -> list[dict[str, Any]]:
    paused = {p["function_id"]: p for p in await services.operations.pausing.list_paused()}
    found = []
    for function in services.registry.functions():
        stats = await function_stats(services, function.slug)
        summary = function_summary(function)
        found.append({**summary, "stats": stats, "paused": function.slug in paused})
    return found


async def apps_page(services: Services) -> list[dict[str, Any]]:
    rows = await services.reads.apps()
    counts: dict[str, int] = {}
    for function in services.registry.functions():
        counts[function.app_id] = counts.get(function.app_id, 0) + 1
    apps = []
    for row in rows:
        state = services.sync.urls.get(row["url"])
        apps.append(
            {
                "id": row["id"],
                "name": row["name"],
                "url": row["url"],
                "sdk": row["sdk"],
                **sdk_parts(row["sdk"]),
                "framework": row["framework"],
                "functions": counts.get(row["id"], 0),
                "synced_at": rfc3339(row["synced_at"]),
                "error": row["error"] or (state.error if state is not None else None),
                "connected": services.connect.connected(row["url"]),
                "workers": [
                    worker_view(w) for w in services.connect.workers() if row["name"] in w.apps
                ],
            }
        )
    known = {app["url"] for app in apps}
    for state in services.sync.urls.values():  # URLs to sync that no app has answered from yet
        if state.url not in known:
            apps.append(
                {
                    "id": None,
                    "name": None,
                    "url": state.url,
                    "sdk": None,
                    **sdk_parts(None),
                    "framework": None,
                    "functions": 0,
                    "synced_at": rfc3339(state.synced_at),
                    "error": state.error or "not synced yet",
                    "connected": None,
                    "workers": [],
                }
            )
    return apps


def pretty_params(params: Mapping[str, str], **changes: str | None) -> str:
    """The current filters as a query string with `changes` applied (None drops a key)."""
    merged = {k: v for k, v in params.items() if v}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return urlencode(merged)
