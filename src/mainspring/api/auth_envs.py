"""Tokens limited to environments (production mode): the gate's check and the handlers' view.

The gate (`api.auth_middleware`) refuses a token or session used in an environment it is not
for, and keeps what it allows in `scope["state"]["auth_envs"]` (a tuple of names, or None for
every environment; absent in dev mode, where nothing is limited). Handlers that act on more than
the request's environment ask here.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope

from mainspring.api.errors import JSONResponse, error_body
from mainspring.api.state import env_of
from mainspring.auth.keys import Grant

# Keys and tokens are the server's, not an environment's: managing them takes a token for all.
SERVER_WIDE = ("/v1/admin/event-keys", "/v1/admin/api-tokens")
# Paths of no one environment: a credential limited to staging may still look at itself, list
# its environments (the handler shows only those) and log out.
ENV_FREE = frozenset({"/logout", "/auth/session", "/v1/environments"})


def refused(grant: Grant, scope: Scope) -> Response | None:
    """403 when the grant does not reach the request's environment (or the path is server-wide
    and the grant is limited); None when it does. Keeps the grant's environments for handlers."""
    state: dict[str, Any] = scope.setdefault("state", {})
    state["auth_envs"] = grant.envs
    path: str = scope["path"]
    if grant.envs is not None and path.startswith(SERVER_WIDE):
        return forbidden_all()
    env = env_of(scope)
    if grant.allows(env) or path in ENV_FREE:
        return None
    if grant.envs and not state.get("env_named", True):
        # a credential for staging only, on a request naming no environment: its own
        state["env"] = grant.envs[0]
        return None
    body = error_body(
        403,
        f"this token may not be used in environment {env!r}",
        code="forbidden",
        field="env",
        env=env,
    )
    return JSONResponse(body, status_code=403)


def forbidden_all() -> Response:
    body = error_body(403, "this needs a token for all environments", code="forbidden")
    return JSONResponse(body, status_code=403)


def allowed(request: HTTPConnection) -> tuple[str, ...] | None:
    """The environments the request's credential may use; None: all (dev mode included)."""
    state = request.scope.get("state") or {}
    envs: tuple[str, ...] | None = state.get("auth_envs")
    return envs


def require_all(request: HTTPConnection) -> Response | None:
    """A 403 for an action on every environment (the global kill switch) by a limited token."""
    return None if allowed(request) is None else forbidden_all()
