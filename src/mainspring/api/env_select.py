"""Which environment a request is for: `?env=`, else `X-Inngest-Env` (what the SDKs send from
`INNGEST_ENV`), else the dashboard's `mainspring_env` cookie, else the default. The name goes
into `scope["state"]["env"]`, where `api.state.services` reads it (and the gate checks a
token's environments). Installed only when the server has environments on.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from mainspring import errors
from mainspring.api.errors import invalid_input
from mainspring.environments import names
from mainspring.environments.hub import Environments

_HEADER = names.HEADER.encode()


def requested(scope: Scope) -> tuple[str | None, str]:
    """(the name a request gives, where it gave it: the field an error names)."""
    query: bytes = scope.get("query_string", b"")
    if b"env=" in query:
        given = parse_qs(query.decode("latin-1")).get(names.QUERY)
        if given:
            return given[0], names.QUERY
    cookie_header = None
    for key, value in scope.get("headers", ()):
        if key == _HEADER:
            return value.decode("latin-1"), "X-Inngest-Env"
        if key == b"cookie":
            cookie_header = value
    if cookie_header is not None and names.COOKIE.encode() in cookie_header:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(cookie_header.decode("latin-1"))
        if names.COOKIE in cookie:
            return cookie[names.COOKIE].value, names.COOKIE
    return None, names.QUERY


class EnvSelect:
    def __init__(self, app: ASGIApp, *, environments: Environments[Any]) -> None:
        self.app = app
        self.environments = environments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given, field = requested(scope)
        try:
            name = self.environments.resolve(given, field)
        except errors.InvalidInput as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await invalid_input(exc)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["env"] = name
        state["env_named"] = given is not None  # else a credential's own may stand in
        await self.app(scope, receive, send)
