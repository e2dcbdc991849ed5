"""One `Route` per path, so that a 405 lists every method the path takes.

Starlette answers 405 from the first route whose path matches, with only that route's methods
in `Allow`: `OPTIONS /v1/kill-switch` said `Allow: GET, HEAD` although POST and DELETE work too
(found by schemathesis). Handlers stay one function per method; they are merged here.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send


class _ByMethod:
    def __init__(self, table: dict[str, ASGIApp]) -> None:
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.table[scope["method"]](scope, receive, send)


def merge_methods(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """`routes` with the plain routes that share a path merged into one, in first-seen order."""
    groups: dict[str, list[Route]] = {}
    for route in routes:
        if isinstance(route, Route) and route.methods:
            groups.setdefault(route.path, []).append(route)
    merged: list[BaseRoute] = []
    for route in routes:
        group = groups.get(route.path, []) if isinstance(route, Route) else []
        if len(group) < 2:
            merged.append(route)
        elif route is group[0]:
            table: dict[str, ASGIApp] = {}
            for member in group:
                for method in sorted(member.methods or ()):
                    table.setdefault(method, member.app)
            merged.append(Route(route.path, _ByMethod(table), methods=sorted(table)))
    return merged
