"""The production-mode gate in front of every route (pure ASGI: bodies stream through untouched,
except a dashboard form whose CSRF field must be read, which is buffered and replayed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mainspring.api import auth_envs
from mainspring.api.errors import JSONResponse, error_body
from mainspring.api.state import env_of
from mainspring.audit import actors
from mainspring.auth import csrf_form
from mainspring.auth.keys import ADMIN, Grant, Keyring
from mainspring.auth.paths import SAFE_METHODS, Zone, classify, needed_scope
from mainspring.auth.sessions import COOKIE, Session, SessionSigner
from mainspring.protocol import signing

CSRF_HEADER = "x-csrf-token"


def _deny(status: int, message: str, **headers: str) -> Response:
    body = error_body(status, message, code="unauthorized" if status == 401 else "forbidden")
    return JSONResponse(body, status_code=status, headers=headers or None)


def _announcing_kind(send: Send) -> Send:
    """`X-Inngest-Server-Kind: cloud` on every response (protocol §0), denials included."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append((b"x-inngest-server-kind", b"cloud"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _actor(zone: Zone, scope: Scope) -> str:
    """Who the request acts as: the credential the gate accepted, else what its zone implies."""
    named: str | None = scope.get("state", {}).get("auth_actor")
    if named is not None:
        return named
    if zone is Zone.SDK:
        return actors.SDK
    if zone is Zone.EVENT:
        return actors.EVENT_KEY
    return actors.ANONYMOUS


def _bearer(conn: HTTPConnection) -> str:
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        keyring: Keyring,
        signer: SessionSigner,
        signing_keys: Callable[[str], tuple[str, ...]],
    ) -> None:
        self.app = app
        self.keyring = keyring
        self.signer = signer
        self.signing_keys = signing_keys  # an environment's (they may differ per environment)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # realtime checks its token; others need the login
            realtime = classify("GET", scope["path"]) is Zone.REALTIME
            if not realtime and self._session(HTTPConnection(scope)) is None:
                await send({"type": "websocket.close", "code": 1008})
                return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _announcing_kind(send)
        method: str = scope["method"]
        zone = classify(method, scope["path"])
        conn = HTTPConnection(scope)
        denial: Response | None = None
        if zone is Zone.SDK:
            keys = self.signing_keys(env_of(scope))
            if not signing.bearer_matches(conn.headers.get("authorization"), keys):
                denial = _deny(401, "a valid signing key bearer token is required")
        elif zone is Zone.EVENT:
            denial = await self._event_key(conn, scope)
        elif zone in (Zone.API, Zone.ADMIN_API):
            denial = await self._api(conn, zone, method, scope)
        elif zone is Zone.DASHBOARD:
            denial, receive = await self._dashboard(conn, scope, receive, method)
        if denial is not None:
            await denial(scope, receive, send)
            return
        previous = actors.enter(_actor(zone, scope))
        try:
            await self.app(scope, receive, send)
        finally:
            actors.leave(previous)

    async def _event_key(self, conn: HTTPConnection, scope: Scope) -> Response | None:
        """The key decides the environment (as in Inngest Cloud): a request's `X-Inngest-Env`
        naming another one is overridden, so a production key never feeds staging."""
        path: str = scope["path"]
        key = path[len("/e/") :] if path.startswith("/e/") else _bearer(conn)
        if not key:
            return JSONResponse(error_body(401, "Event key is required"), status_code=401)
        env = await self.keyring.event_key_env(key)
        if env is None:
            return JSONResponse(error_body(401, "Event key not found"), status_code=401)
        scope.setdefault("state", {})["env"] = env
        return None

    async def _api(
        self, conn: HTTPConnection, zone: Zone, method: str, asgi: Scope
    ) -> Response | None:
        token = _bearer(conn)
        grant = await self.keyring.token_grant(token) if token else None
        if grant is None and token:  # an environment's own signing key: admin there only
            env = env_of(asgi)
            if signing.bearer_matches(f"Bearer {token}", self.signing_keys(env)):
                grant = Grant(ADMIN, actors.SIGNING_KEY, (env,))
        if grant is None:
            session = self._session(conn)
            if session is not None and (
                method in SAFE_METHODS
                or self.signer.csrf_ok(session, conn.headers.get(CSRF_HEADER))
            ):
                grant = Grant(session.scope, actors.session(session.who), session.envs)
        if grant is None:
            return _deny(401, "a valid API token is required", **{"WWW-Authenticate": "Bearer"})
        if needed_scope(zone, method, asgi["path"]) == ADMIN and grant.scope != ADMIN:
            return _deny(403, "this token is read-only")
        state: dict[str, Any] = asgi.setdefault("state", {})
        state["auth_scope"] = grant.scope  # for handlers that decide per request (GraphQL)
        state["auth_actor"] = grant.actor  # who the audit log names
        return auth_envs.refused(grant, asgi)

    def _session(self, conn: HTTPConnection) -> Session | None:
        return self.signer.read(conn.cookies.get(COOKIE), int(time.time()))

    async def _dashboard(
        self, conn: HTTPConnection, scope: Scope, receive: Receive, method: str
    ) -> tuple[Response | None, Receive]:
        session = self._session(conn)
        if session is None:
            if method in SAFE_METHODS and "hx-request" not in conn.headers:
                target = scope["path"] + (f"?{conn.url.query}" if conn.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303), receive
            return _deny(401, "login required", **{"HX-Redirect": "/login"}), receive
        token = self.signer.csrf_token(session)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["csrf_token"] = token
        state["auth_scope"] = session.scope
        state["auth_actor"] = actors.session(session.who)
        grant = Grant(session.scope, state["auth_actor"], session.envs)
        env_denial = auth_envs.refused(grant, scope)
        if env_denial is not None:
            return env_denial, receive
        if method in SAFE_METHODS:
            return None, receive
        presented = conn.headers.get(CSRF_HEADER)
        if presented is None:
            body, receive = await csrf_form.buffer(receive)
            presented = csrf_form.field(conn.headers.get("content-type", ""), body)
        if not self.signer.csrf_ok(session, presented):
            return _deny(403, "missing or invalid CSRF token"), receive
        if session.scope != ADMIN:
            return _deny(403, "this session is read-only"), receive
        return None, receive
