"""Events: `event`, `events`, `stream`, `eventV2`, `eventsV2`, and the runs each event started.

Lists read their events' runs in one query (`Context.runs_of_event`, primed with the ids of
the page), and the stream's page is read without internal events in SQL, so that `limit`
counts only the events it shows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mainspring import errors
from mainspring.api.gql import shapes
from mainspring.api.gql.context import (
    Info,
    bad_input,
    cel_arg,
    known_id,
    not_found,
    ulid_arg,
)
from mainspring.domain import events as event_names
from mainspring.domain.durations import parse_instant_ms
from mainspring.reads.events import FOREVER_MS, EventFilter, parse_cursor
from mainspring.reads.filters import ID_CEILING

STREAM_LIMIT = 1000
EVENTS_LIMIT = 1000  # `events(query)`: the newest this many
MAX_FIRST = 400  # a page of `eventsV2`


async def resolve_event(_: None, info: Info, query: dict[str, Any]) -> Any:
    event_id = known_id(query["eventId"], "query.eventId", "event")
    event = await info.context.services.reads.event(event_id)
    if event is None:
        raise not_found("event", "query.eventId", event_id)
    return shapes.event_v1(event, shapes.sent(event))


async def resolve_events(_: None, info: Info, query: dict[str, Any]) -> Any:
    """Recent events, newest first. `payload` is the event's data here, as the TypeScript SDK's
    test helpers read it (`receivedEventWithName`); `event(query)` keeps the whole event."""
    events = await info.context.services.reads.events(None, EVENTS_LIMIT)
    info.context.runs_of_event.prime(event["internal_id"] for event in events)
    return [shapes.event_v1(event, event["data"]) for event in events]


async def _bound(info: Info, value: Any, argument: str) -> dict[str, Any]:
    event_id = known_id(value, argument, "event")
    event = await info.context.services.reads.event(event_id)
    if event is None:
        raise not_found("event", argument, event_id)
    return event


async def resolve_stream(_: None, info: Info, query: dict[str, Any]) -> Any:
    """The newest events (`before`/`after` another event) with the runs each started; the
    TypeScript SDK's `eventRunWithName` finds a run by them."""
    limit = max(1, min(int(query["limit"]), STREAM_LIMIT))
    flt = EventFilter(user_only=not query.get("includeInternalEvents"), limit=limit)
    if query.get("before"):
        older = await _bound(info, query["before"], "query.before")
        flt = replace(flt, before_at=_ms(older), before_id=older["internal_id"])
    newer_than: tuple[int, str] | None = None
    if query.get("after"):
        newer = await _bound(info, query["after"], "query.after")
        newer_than = (_ms(newer), str(newer["internal_id"]))
        flt = replace(flt, after=newer_than[0])
    events, _cursor = await info.context.services.reads.event_page(flt)
    if newer_than is not None:
        events = [e for e in events if (_ms(e), e["internal_id"]) > newer_than]
    info.context.runs_of_event.prime(event["internal_id"] for event in events)
    return [_stream_item(event) for event in events]


def _ms(event: dict[str, Any]) -> int:
    return parse_instant_ms(str(event["received_at"]))


def _stream_item(event: dict[str, Any]) -> dict[str, Any]:
    cron = shapes.cron_of(event)
    return {
        "id": event["internal_id"],
        "trigger": cron or event["name"],
        "type": "CRON" if event["name"] == event_names.SCHEDULED_TIMER else "EVENT",
        "createdAt": event["received_at"],
        "inBatch": False,
        "event": event,
    }


async def _runs_of(info: Info, node: dict[str, Any]) -> list[dict[str, Any]]:
    return await info.context.runs_of_event.get(node["event"]["internal_id"]) or []


async def resolve_v1_runs(node: dict[str, Any], info: Info) -> Any:
    """`StreamItem.runs` and `Event.functionRuns`."""
    return [shapes.run_v1(run) for run in await _runs_of(info, node)]


async def resolve_v2_runs(node: dict[str, Any], info: Info) -> Any:
    """`EventV2.runs`."""
    return [shapes.run_v2(run) for run in await _runs_of(info, node)]


async def resolve_event_status(node: dict[str, Any], info: Info) -> Any:
    return shapes.event_status(await _runs_of(info, node))


async def resolve_total_runs(node: dict[str, Any], info: Info) -> Any:
    return len(await _runs_of(info, node))


async def resolve_pending_runs(node: dict[str, Any], info: Info) -> Any:
    return sum(run["status"] not in shapes.ENDED for run in await _runs_of(info, node))


async def resolve_event_v2(_: None, info: Info, id: str) -> Any:
    event_id = ulid_arg(id, "id")
    event = await info.context.services.reads.event(event_id)
    if event is None:
        raise not_found("event", "id", event_id)
    return shapes.event_v2(event)


def _events_filter(filter: dict[str, Any], first: int, after: str | None) -> EventFilter:
    until = filter.get("until")
    before_at, before_id = (FOREVER_MS, ID_CEILING) if until is None else (int(until), "")
    if after:
        try:
            at, internal_id = parse_cursor(after, "after")
        except errors.InvalidInput:
            raise bad_input("after", "not a cursor this API returned") from None
        before_at, before_id = min((before_at, before_id), (at, internal_id))
    return EventFilter(
        names=tuple(filter.get("eventNames") or ()),
        user_only=not filter["includeInternalEvents"],
        query=cel_arg(filter.get("query"), "filter.query"),
        after=int(filter["from"]),
        before_at=before_at,
        before_id=before_id,
        limit=max(1, min(first, MAX_FIRST)),
    )


async def resolve_events_v2(
    _: None, info: Info, first: int, filter: dict[str, Any], after: str | None = None
) -> Any:
    """Events newest first in [from, until), by name, internal ones or not, a CEL `query`."""
    flt = _events_filter(filter, first, after)
    events, cursor = await info.context.services.reads.event_page(flt)
    info.context.runs_of_event.prime(event["internal_id"] for event in events)
    edges = [{"node": shapes.event_v2(e), "cursor": _cursor_of(e)} for e in events]
    end = cursor or (edges[-1]["cursor"] if edges else None)
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": cursor is not None,
            "hasPreviousPage": bool(after),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": end,
        },
        "filter": replace(flt, before_at=_until(filter), before_id=_until_id(filter)),
    }


def _until(filter: dict[str, Any]) -> int:
    until = filter.get("until")
    return FOREVER_MS if until is None else int(until)


def _until_id(filter: dict[str, Any]) -> str:
    return ID_CEILING if filter.get("until") is None else ""


def _cursor_of(event: dict[str, Any]) -> str:
    return f"{_ms(event)}:{event['internal_id']}"


async def resolve_events_total(connection: dict[str, Any], info: Info) -> Any:
    """Every event of the filter (the cursor aside)."""
    return await info.context.services.reads.event_count(connection["filter"])
