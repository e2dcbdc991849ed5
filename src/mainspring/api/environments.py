"""`GET /v1/environments`: the server's environments, which it serves and which are archived."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api import auth_envs
from mainspring.api.rest import envelope
from mainspring.api.state import env_name, environments
from mainspring.domain.durations import rfc3339


def _view(row: Any, served: set[str], current: str) -> dict[str, Any]:
    def when(key: str) -> str | None:
        return None if row[key] is None else rfc3339(row[key])

    return {
        "name": row["name"],
        "kind": row["kind"],  # default, configured or branch
        "served": row["name"] in served,
        "current": row["name"] == current,
        "created_at": when("created_at"),
        "active_at": when("active_at"),
        "archived_at": when("archived_at"),
    }


async def list_environments(request: Request) -> Response:
    every = environments(request)
    served, current = set(every.served()), env_name(request)
    rows = await every.listing()
    limited = auth_envs.allowed(request)  # a token limited to some sees only those
    shown = [row for row in rows if limited is None or row["name"] in limited]
    return envelope(request, [_view(row, served, current) for row in shown])


routes = [Route("/v1/environments", list_environments, methods=["GET"])]
