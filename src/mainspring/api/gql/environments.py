"""Environments in GraphQL, with Inngest Cloud's names (`envs`, `defaultEnv`, `envBySlug`, an
environment being a `Workspace`): the list `GET /v1/environments` answers, as Workspace nodes.
The list is short and read whole, so pages are offsets (the cursor is the position after the
edge), as in `workers.py`."""

from __future__ import annotations

from typing import Any

from mainspring.api.gql import offset_pages
from mainspring.api.gql.context import Info
from mainspring.environments import names
from mainspring.store.base import Row

_TYPES = {"default": "PRODUCTION", "configured": "TEST", "branch": "BRANCH_CHILD"}


def _node(row: Row, branches_archive: bool) -> dict[str, Any]:
    kind = str(row["kind"])
    return {
        "id": row["name"],
        "name": row["name"],
        "slug": row["name"],
        "type": _TYPES.get(kind, "TEST"),
        "test": row["name"] != names.DEFAULT,
        "parentID": None,
        "createdAt": row["created_at"],
        "lastDeployedAt": row["active_at"],
        "isArchived": row["archived_at"] is not None,
        "isAutoArchiveEnabled": kind == "branch" and branches_archive,
    }


async def _nodes(info: Info, *, limited: bool = True) -> list[dict[str, Any]]:
    hub = info.context.environments
    allowed = info.context.allowed_envs if limited else None
    rows = await hub.listing()  # a token limited to some sees only those
    return [
        _node(row, hub.config.branches) for row in rows if allowed is None or row["name"] in allowed
    ]


def _matches(node: dict[str, Any], filter: dict[str, Any] | None) -> bool:
    if not filter:
        return True
    archived = filter.get("archived")
    if archived is not None and node["isArchived"] != archived:
        return False
    types = filter.get("envTypes")
    return not types or node["type"] in types


async def resolve_envs(
    _: None,
    info: Info,
    first: int = 40,
    after: str | None = None,
    filter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    nodes = [node for node in await _nodes(info) if _matches(node, filter)]
    return offset_pages.page(nodes, first, after)


async def resolve_default_env(_: None, info: Info) -> dict[str, Any]:
    nodes = await _nodes(info, limited=False)  # production's name is no secret
    return next(node for node in nodes if node["name"] == names.DEFAULT)


async def resolve_env_by_slug(_: None, info: Info, slug: str) -> dict[str, Any] | None:
    return next((node for node in await _nodes(info) if node["name"] == slug), None)
