"""The environment switcher in the dashboard's header, shown when the server has environments on.

A dashboard request's environment is the `mainspring_env` cookie (`api.env_select`);
`GET /environment?env=NAME&next=/runs` sets it and goes back. A GET, not a POST: choosing what
to look at changes nothing on the server, a read-only session must be able to do it (production
mode lets only admin sessions POST), and every page already honours `?env=` in its URL, so a
link can show another environment anyway. The header always names the environment shown,
coloured when it is not the default one, so a page of staging is never mistaken for production.

A cookie naming an environment that is no longer served (a branch archived while idle) would
make every page a 404: `forget_stale` drops it and shows the same page of the default one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mainspring import errors
from mainspring.api import auth_envs
from mainspring.api.env_select import requested
from mainspring.api.errors import invalid_input
from mainspring.auth.paths import Zone, classify
from mainspring.environments import names
from mainspring.environments.hub import Environments

HOME = "/runs"


def _hub(request: Request) -> Environments[Any] | None:
    hub: Environments[Any] | None = getattr(request.app.state, "environments", None)
    return hub if hub is not None and hub.config.enabled else None


def _current(request: Request) -> str:
    state = request.scope.get("state") or {}
    name: str = state.get("env", names.DEFAULT)
    return name


def _shown(request: Request, served: list[str]) -> list[str]:
    """The environments a limited session may open (all for others)."""
    allowed = auth_envs.allowed(request)
    return served if allowed is None else [name for name in served if name in allowed]


def header(request: Request) -> dict[str, Any]:
    """What base.html needs for the switcher: nothing when environments are off."""
    hub = _hub(request)
    if hub is None:
        return {}
    query = f"?{request.url.query}" if request.url.query else ""
    return {
        "env": {
            "current": _current(request),
            "default": names.DEFAULT,
            "served": _shown(request, hub.served()),
            "back": back_to(request.url.path + query),
        }
    }


def back_to(target: str | None) -> str:
    """Where the switch returns: the same section of the dashboard (a run of one environment
    is not in another, so `/runs/ID` goes back to `/runs`), its filters kept; never another
    site, and never an `env=` that would outrank the cookie just set."""
    parts = urlsplit(target or "")
    path = parts.path
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return HOME
    if "\\" in path:
        return HOME
    section = path.split("/")[1]
    if not section or section in ("environment", "ui", "static"):
        return HOME
    if path.rstrip("/") != f"/{section}":
        return f"/{section}"
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != names.QUERY]
    return f"/{section}" + (f"?{urlencode(kept)}" if kept else "")


def switch(request: Request) -> Response | None:
    """`GET /environment`'s answer: back where the user was, with the cookie set; None when
    there is nothing to switch to (environments off, or one not served): a 404 page."""
    hub = _hub(request)
    if hub is None:
        return None
    response = RedirectResponse(back_to(request.query_params.get("next")), status_code=303)
    if names.QUERY not in request.query_params:  # nothing chosen: nothing changes
        return response
    name = _current(request)  # `?env=`, checked by the middleware
    if name not in hub.served():
        return None
    if name == names.DEFAULT:
        response.delete_cookie(names.COOKIE, path="/")
    else:  # a browser-session cookie: a new session starts on the default environment
        secure = request.url.scheme == "https"
        response.set_cookie(
            names.COOKIE, name, path="/", httponly=True, samesite="lax", secure=secure
        )
    return response


async def forget_stale(request: Request, exc: Exception) -> Response:
    """UnknownEnvironment's handler: a dashboard page asked for by a stale cookie is shown
    again without it; anything else is the API's 404 naming the field."""
    assert isinstance(exc, errors.UnknownEnvironment)
    stale = requested(request.scope)[1] == names.COOKIE
    dashboard = classify(request.method, request.url.path) is Zone.DASHBOARD
    response: Response
    if stale and dashboard and "hx-request" in request.headers:  # a fragment: reload the page
        response = Response(status_code=204, headers={"HX-Refresh": "true"})
    elif stale and dashboard and request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        response = RedirectResponse(request.url.path + query, status_code=303)
    else:
        response = invalid_input(exc)
    if stale:
        response.delete_cookie(names.COOKIE, path="/")
    return response
