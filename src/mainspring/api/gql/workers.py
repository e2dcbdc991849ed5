"""Connect workers: `workerConnections` and `workerConnection`, from the same hub that answers
`GET /v1/connect/workers` (the workers connected to this process), plus the last ones that left.

A worker serving several apps is one node per app, as Inngest's schema has one app per node; the
node's id is the connection's. The list is in memory and short, so pages are offsets (the cursor
is the position after the edge).
"""

from __future__ import annotations

from typing import Any

from mainspring.api.gql import offset_pages
from mainspring.api.gql.apps import app_node
from mainspring.api.gql.context import Info, ulid_arg, uuid_arg
from mainspring.connect.hub import Worker

_TIME_FIELDS = {
    "CONNECTED_AT": "connectedAt",
    "LAST_HEARTBEAT_AT": "lastHeartbeatAt",
    "DISCONNECTED_AT": "disconnectedAt",
}


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def worker_nodes(worker: Worker, app_ids: dict[str, str]) -> list[dict[str, Any]]:
    details = worker.details
    nodes = []
    for app_name in worker.apps:
        nodes.append(
            {
                "id": worker.connection_id,
                "gatewayId": details.gateway_id,
                "instanceId": worker.instance_id,
                "workerIp": details.ip,
                "maxWorkerConcurrency": details.max_concurrency,
                "appName": app_name,
                "appID": app_ids.get(app_name),
                "connectedAt": _ms(worker.connected_at),
                "lastHeartbeatAt": _ms(worker.last_heartbeat),
                "disconnectedAt": _ms(worker.disconnected_at),
                "disconnectReason": worker.disconnect_reason,
                "status": worker.status,
                "groupHash": details.group_hashes.get(app_name, ""),
                "sdkLang": details.sdk_language,
                "sdkVersion": details.sdk_version,
                "sdkPlatform": details.platform,
                "syncId": None,
                "buildId": details.app_versions.get(app_name),
                "appVersion": details.app_versions.get(app_name),
                "functionCount": details.function_counts.get(app_name, 0),
                "cpuCores": details.cpu_cores,
                "memBytes": details.mem_bytes,
                "os": details.os,
                "inFlight": len(worker.in_flight),
                "reportedInFlight": worker.reported_in_flight,
            }
        )
    return nodes


async def _nodes(info: Info) -> list[dict[str, Any]]:
    apps = await info.context.apps()
    app_ids = {str(row["name"]): app_id for app_id, row in apps.items()}
    return [
        node
        for worker in info.context.services.connect.recent_workers()
        for node in worker_nodes(worker, app_ids)
    ]


def _matches(node: dict[str, Any], filter: dict[str, Any]) -> bool:
    statuses = filter.get("status")
    if statuses and node["status"] not in statuses:
        return False
    app_ids = filter.get("appIDs")
    if app_ids and node["appID"] not in {uuid_arg(a, "filter.appIDs") for a in app_ids}:
        return False
    at = node[_TIME_FIELDS[filter.get("timeField") or "CONNECTED_AT"]]
    since, until = filter.get("from"), filter.get("until")
    if (since is not None or until is not None) and at is None:
        return False
    return (since is None or at >= since) and (until is None or at <= until)


def _ordered(nodes: list[dict[str, Any]], order_by: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable sorts, last key first; a node without the time sorts last either way."""
    for order in reversed(order_by or [{"field": "CONNECTED_AT", "direction": "DESC"}]):
        key = _TIME_FIELDS[order["field"]]
        descending = order["direction"] == "DESC"
        present = [n for n in nodes if n[key] is not None]
        absent = [n for n in nodes if n[key] is None]
        nodes = sorted(present, key=lambda n: n[key], reverse=descending) + absent
    return nodes


async def resolve_worker_connections(
    _: None,
    info: Info,
    orderBy: list[dict[str, Any]],
    filter: dict[str, Any],
    first: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    nodes = _ordered([n for n in await _nodes(info) if _matches(n, filter)], orderBy)
    return {**offset_pages.page(nodes, first, after), "totalCount": len(nodes)}


async def resolve_worker_connection(
    _: None,
    info: Info,
    connectionId: str,
) -> dict[str, Any] | None:
    wanted = ulid_arg(connectionId, "connectionId")
    return next((n for n in await _nodes(info) if n["id"] == wanted), None)


async def resolve_worker_app(node: dict[str, Any], info: Info) -> dict[str, Any] | None:
    app_id = node.get("appID")
    row = (await info.context.apps()).get(app_id) if app_id else None
    return None if row is None else app_node(info, row)
