"""Events and the event stream: `event`, `events`, `stream`, and the runs each event started."""

from __future__ import annotations

from typing import Any

import graphql

from mainspring import codec
from mainspring.api.gql.common import payload, run_node
from mainspring.api.gql.context import Info

STREAM_LIMIT = 1000


async def resolve_event(_: None, info: Info, query: dict[str, Any]) -> Any:
    event = await info.context.services.reads.event(str(query["eventId"]))
    if event is None:
        raise graphql.GraphQLError(f"event not found: {query['eventId']}")
    return {
        "id": event["internal_id"],
        "name": event["name"],
        "payload": codec.dumps(payload(event)),
        "receivedAt": event["received_at"],
    }


async def resolve_events(_: None, info: Info, query: dict[str, Any]) -> Any:
    """Recent events, newest first. `payload` is the event's data here, as the TypeScript SDK's
    test helpers read it (`receivedEventWithName`); `event(query)` keeps the whole event."""
    events = await info.context.services.reads.events(None, STREAM_LIMIT)
    return [
        {
            "id": event["internal_id"],
            "name": event["name"],
            "payload": codec.dumps(event["data"]),
            "receivedAt": event["received_at"],
        }
        for event in events
    ]


async def resolve_stream(_: None, info: Info, query: dict[str, Any]) -> Any:
    """Recent events with the runs each started (`eventRunWithName` finds a run by them)."""
    limit = max(1, min(int(query.get("limit") or 100), STREAM_LIMIT))
    internal = bool(query.get("includeInternalEvents"))
    events = await info.context.services.reads.events(None, limit)
    items = []
    for event in events:
        if not internal and str(event["name"]).startswith("inngest/"):
            continue
        items.append(
            {
                "id": event["internal_id"],
                "trigger": event["name"],
                "type": "CRON" if event["name"] == "inngest/scheduled.timer" else "EVENT",
                "createdAt": event["received_at"],
                "inBatch": False,
            }
        )
    return items


async def resolve_item_runs(item: dict[str, Any], info: Info) -> Any:
    runs = await info.context.services.reads.runs(event_id=item["id"], limit=STREAM_LIMIT)
    return [run_node(run) for run in runs]


async def resolve_function_runs(event: dict[str, Any], info: Info) -> Any:
    runs = await info.context.services.reads.runs(event_id=event["id"], limit=1000)
    return [run_node(run) for run in runs]
