"""Refuse NUL (U+0000) in the path and the query string: 400 naming the parameter.

PostgreSQL text cannot hold NUL, so `GET /v1/runs/a%00b` or `?name=a%00` reached psycopg and
answered 500 (found by schemathesis on PostgreSQL). Refused here for both databases alike; NUL
inside JSON bodies is caught where it meets a PostgreSQL text column (`store/postgres.py`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from mainspring import errors
from mainspring.api.errors import invalid_input


def _nul_field(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query.lower() and b"\x00" not in query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "query"
    return None


class RejectNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        field = _nul_field(scope) if scope["type"] == "http" else None
        if field is None:
            await self.app(scope, receive, send)
            return
        message = f"{field} must not contain NUL (U+0000) characters"
        await invalid_input(errors.InvalidInput(message, field=field))(scope, receive, send)
