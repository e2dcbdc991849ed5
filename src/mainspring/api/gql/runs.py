"""Runs: `run(runID)`, its function and its trigger (`runTrigger`)."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.api.gql.common import need_run, payload, run_node
from mainspring.api.gql.context import Info


def resolve_run_function(node: dict[str, Any], info: Info) -> Any:
    slug = str(node["functionID"])
    function = info.context.services.registry.get(slug)
    name = function.name if function is not None else slug
    return {"id": function.id if function is not None else slug, "slug": slug, "name": name}


async def resolve_run(_: None, info: Info, runID: str) -> Any:
    return run_node(await need_run(info, runID))


async def resolve_trigger(_: None, info: Info, runID: str) -> Any:
    run = await need_run(info, runID)
    events = []
    for internal_id in run.get("event_ids") or [run["event_id"]]:  # several for a batch
        event = await info.context.services.reads.event(str(internal_id))
        if event is not None:
            events.append(event)
    return {
        "eventName": events[0]["name"] if events else None,
        "payloads": [codec.dumps(payload(event)) for event in events],
        "isBatch": len(events) > 1,
    }
