"""Runs: `run`, `functionRun`, `runs` (a connection over the REST run list's filter and cursor,
`reads.runs`), `runTrigger`, and the fields of `FunctionRun` / `FunctionRunV2` that need another
read (function, app, event name, cron schedule, trigger events)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mainspring import codec
from mainspring.api.gql import apps, shapes
from mainspring.api.gql.context import (
    Info,
    bad_input,
    cel_arg,
    known_id,
    not_found,
    ulid_arg,
    uuid_arg,
)
from mainspring.domain import events as event_names
from mainspring.domain.functions import FunctionDef
from mainspring.domain.ids import ID_CEILING, ulid_floor
from mainspring.reads.filters import RunFilter

MAX_FIRST = 400  # runs per page, as Inngest caps it


async def need_run(info: Info, run_id: Any, argument: str) -> dict[str, Any]:
    found_id = known_id(run_id, argument, "run")
    run = await info.context.services.reads.run(found_id)
    if run is None:
        raise not_found("run", argument, found_id)
    return run


async def resolve_run(_: None, info: Info, runID: str) -> Any:
    return shapes.run_v2(await need_run(info, runID, "runID"))


async def resolve_function_run(_: None, info: Info, query: dict[str, Any]) -> Any:
    return shapes.run_v1(await need_run(info, query["functionRunId"], "query.functionRunId"))


async def _function(info: Info, node: dict[str, Any]) -> FunctionDef | None:
    return await info.context.function(str(node["run"]["function_id"]))


async def resolve_function_id(node: dict[str, Any], info: Info) -> Any:
    function = await _function(info, node)
    return function.id if function is not None else node["run"]["function_id"]


async def resolve_function(node: dict[str, Any], info: Info) -> Any:
    function = await _function(info, node)
    slug = str(node["run"]["function_id"])
    return apps.function_node(function) if function is not None else apps.unknown_function(slug)


async def resolve_app_id(node: dict[str, Any], info: Info) -> Any:
    function = await _function(info, node)
    return function.app_id if function is not None else ""


async def resolve_app(node: dict[str, Any], info: Info) -> Any:
    function = await _function(info, node)
    app_id = function.app_id if function is not None else ""
    row = await info.context.app(app_id) if app_id else None
    return apps.app_node(info, row) if row is not None else apps.unknown_app(app_id)


async def _trigger(info: Info, node: dict[str, Any]) -> dict[str, Any] | None:
    return await info.context.events.get(str(node["run"]["event_id"]))


async def resolve_event_name(node: dict[str, Any], info: Info) -> Any:
    run = node["run"]
    name = run["event_name"] if "event_name" in run else None
    if name is None:
        event = await _trigger(info, node)
        name = event["name"] if event is not None else None
    return None if name == event_names.SCHEDULED_TIMER else name


async def resolve_cron(node: dict[str, Any], info: Info) -> Any:
    run = node["run"]
    if run.get("event_name") not in (None, event_names.SCHEDULED_TIMER):
        return None  # a listed run says its trigger's name: no read for the usual case
    return shapes.cron_of(await _trigger(info, node))


async def resolve_event(node: dict[str, Any], info: Info) -> Any:
    event = await _trigger(info, node)
    return None if event is None else shapes.event_v1(event, shapes.sent(event))


async def _trigger_events(info: Info, run: dict[str, Any]) -> list[dict[str, Any]]:
    ids = shapes.trigger_ids(run)
    info.context.events.prime(ids)
    found = [await info.context.events.get(str(event_id)) for event_id in ids]
    return [event for event in found if event is not None]


async def resolve_events(node: dict[str, Any], info: Info) -> Any:
    return [shapes.event_v1(e, shapes.sent(e)) for e in await _trigger_events(info, node["run"])]


async def resolve_trigger(_: None, info: Info, runID: str) -> Any:
    """The run's trigger events as sent (several for a batch), or its cron schedule."""
    run = await need_run(info, runID, "runID")
    events = await _trigger_events(info, run)
    cron = shapes.cron_of(events[0]) if events else None
    names = {event["name"] for event in events}
    return {
        "eventName": names.pop() if len(names) == 1 and cron is None else None,
        "IDs": [event["internal_id"] for event in events],
        "payloads": [codec.dumps(shapes.sent(event)) for event in events],
        "timestamp": min([e["received_at"] for e in events], default=run["created_at"]),
        "isBatch": len(shapes.trigger_ids(run)) > 1,
        "batchID": None,
        "cron": cron,
    }


def _window(filter: dict[str, Any]) -> tuple[str, str]:
    start, until = int(filter["from"]), filter.get("until")
    if until is not None and int(until) < start:
        raise bad_input("filter.until", "is earlier than filter.from")
    return ulid_floor(start), ID_CEILING if until is None else ulid_floor(int(until) + 1)


def _scope(info: Info, filter: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(function slugs, app ids) the filter names; None when it names only unknown functions."""
    function_ids = [uuid_arg(v, "filter.functionIDs") for v in filter.get("functionIDs") or ()]
    app_ids = tuple(uuid_arg(v, "filter.appIDs") for v in filter.get("appIDs") or ())
    if not function_ids:
        return (), app_ids
    wanted = set(function_ids)
    slugs = tuple(
        function.slug
        for function in info.context.services.registry.functions()
        if function.id in wanted and (not app_ids or function.app_id in app_ids)
    )
    return (slugs, ()) if slugs else None


def _run_filter(info: Info, filter: dict[str, Any], first: int) -> RunFilter | None:
    """The REST list's filter (`reads.filters.RunFilter`) for `RunsFilterV2`; None when no run
    can match (unknown functions, deferred runs: we have none)."""
    lower, upper = _window(filter)
    asked = filter.get("status") or ()
    statuses = tuple(dict.fromkeys(shapes.OUR_STATUS.get(s, "Scheduled") for s in asked))
    scope = _scope(info, filter)
    if scope is None or filter.get("isDeferred"):
        return None
    return RunFilter(
        statuses=statuses,
        function_slugs=scope[0],
        app_ids=scope[1],
        lower_id=lower,
        upper_id=upper,
        query=cel_arg(filter.get("query"), "filter.query"),
        limit=max(1, min(first, MAX_FIRST)),
    )


def _connection(edges: list[dict[str, Any]], cursor: str | None, after: str | None) -> Any:
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": cursor is not None,
            "hasPreviousPage": bool(after),
            "startCursor": edges[0]["cursor"] if edges else None,
            # where the next page starts (past the last edge when a CEL scan stopped early)
            "endCursor": cursor or (edges[-1]["cursor"] if edges else None),
        },
    }


async def resolve_runs(
    _: None,
    info: Info,
    first: int,
    orderBy: list[dict[str, Any]],
    filter: dict[str, Any],
    after: str | None = None,
    preview: bool | None = None,
) -> Any:
    """Runs newest first by queue time; `after` is an edge's cursor (a run id)."""
    flt = _run_filter(info, filter, first)
    if flt is None:
        return {**_connection([], None, after), "filter": None}
    whole = flt  # `totalCount` counts every page
    if after:
        flt = replace(flt, upper_id=min(flt.upper_id, ulid_arg(after, "after")))
    page = await info.context.services.reads.run_page(flt)
    info.context.events.prime(str(run["event_id"]) for run in page.runs)
    edges = [{"node": shapes.run_v2(run), "cursor": run["run_id"]} for run in page.runs]
    return {**_connection(edges, page.cursor, after), "filter": whole}


async def resolve_runs_total(
    connection: dict[str, Any], info: Info, preview: bool | None = None
) -> Any:
    flt = connection["filter"]
    return 0 if flt is None else await info.context.services.reads.run_count(flt)
