"""`/login`, `/logout` and the admin API for event keys and API tokens (production mode only).

An event key is created for one environment (`env`, default production) and a token for some
(`environments`, omitted: all); either must name environments the server knows (any valid name
when branch environments are on: the branch's first sync creates it)."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs

import jinja2
import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api import auth_envs
from mainspring.api.body import read_limited
from mainspring.api.errors import JSONResponse, error_body, invalid_input, not_found
from mainspring.api.state import environments
from mainspring.auth.keys import Keyring, check_env, check_envs
from mainspring.auth.sessions import COOKIE, LOGIN_CSRF_COOKIE, SessionSigner
from mainspring.environments import names

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parents[1] / "auth" / "templates"),
    autoescape=True,
)
MAX_FORM_BYTES = 16 * 1024


def _keyring(request: Request) -> Keyring:
    found: Keyring = request.app.state.keyring
    return found


def _signer(request: Request) -> SessionSigner:
    found: SessionSigner = request.app.state.session_signer
    return found


def _safe_next(target: str | None) -> str:
    """Only same-site paths: `//evil.example` and `https://…` would be open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, error: str | None, status: int, nxt: str) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_hex(16)
    html = _templates.get_template("login.html").render(
        error=error, csrf_token=token, next=_safe_next(nxt)
    )
    response = HTMLResponse(html, status_code=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


async def login_form(request: Request) -> Response:
    return _login_page(request, None, 200, request.query_params.get("next", "/"))


async def login(request: Request) -> Response:
    try:
        raw = await read_limited(request, MAX_FORM_BYTES)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    form = {key: values[0] for key, values in parse_qs(raw.decode(errors="replace")).items()}
    nxt = form.get("next", "/")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    presented = form.get("csrf_token", "").encode()
    if not expected or not secrets.compare_digest(presented, expected.encode()):
        return _login_page(request, "The form expired; please try again.", 403, nxt)
    grant = await _keyring(request).token_grant(form.get("token", "").strip())
    if grant is None:
        return _login_page(request, "That token is not valid.", 401, nxt)
    ttl = request.app.state.services.settings.session_ttl_s
    # the session reaches the environments its token does, no more
    cookie, _ = _signer(request).issue(grant.scope, int(time.time()), ttl, grant.actor, grant.envs)
    response = RedirectResponse(_safe_next(nxt), status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=ttl,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    """The middleware has checked the session and the CSRF token already."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def session_info(request: Request) -> Response:
    """The signed-in session's scope and CSRF token (for scripts and tests; the dashboard gets
    the token from `request.state`). Behind the login like every dashboard path."""
    envs = auth_envs.allowed(request)
    return JSONResponse(
        {
            "scope": request.state.auth_scope,
            "csrf_token": request.state.csrf_token,
            "environments": None if envs is None else list(envs),  # None: every environment
        }
    )


async def _json_body(request: Request) -> dict[str, object]:
    raw = await read_limited(request, MAX_FORM_BYTES)
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise errors.InvalidInput("body is not valid JSON", field="body") from None
    if not isinstance(body, dict):
        raise errors.InvalidInput("the body must be a JSON object", field="body")
    return body


async def _known(request: Request) -> set[str] | None:
    """The environments a key or token may name; None: any valid name (branches are on)."""
    every = environments(request)
    if not every.config.enabled:
        return {names.DEFAULT}
    if every.config.branches:
        return None
    return await _keyring(request).known_environments() | set(every.served())


async def list_event_keys(request: Request) -> Response:
    return JSONResponse({"data": await _keyring(request).event_keys()})


async def create_event_key(request: Request) -> Response:
    try:
        body = await _json_body(request)
        env = check_env(body.get("env", names.DEFAULT), await _known(request))
        created = await _keyring(request).create_event_key(body.get("name"), env)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    return JSONResponse({"data": created}, status_code=201)


async def revoke_event_key(request: Request) -> Response:
    if not await _keyring(request).revoke_event_key(request.path_params["ref"]):
        return not_found("no active event key with that id or name")
    return JSONResponse({"data": {"revoked": True}})


async def list_tokens(request: Request) -> Response:
    return JSONResponse({"data": await _keyring(request).tokens()})


async def create_token(request: Request) -> Response:
    try:
        body = await _json_body(request)
        envs = check_envs(body.get("environments"), await _known(request))
        created = await _keyring(request).create_token(body.get("name"), body.get("scope"), envs)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    return JSONResponse({"data": created}, status_code=201)


async def revoke_token(request: Request) -> Response:
    if not await _keyring(request).revoke_token(request.path_params["ref"]):
        return JSONResponse(error_body(404, "no active token with that id or name"), 404)
    return JSONResponse({"data": {"revoked": True}})


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/auth/session", session_info, methods=["GET"]),
    Route("/v1/admin/event-keys", list_event_keys, methods=["GET"]),
    Route("/v1/admin/event-keys", create_event_key, methods=["POST"]),
    Route("/v1/admin/event-keys/{ref}", revoke_event_key, methods=["DELETE"]),
    Route("/v1/admin/api-tokens", list_tokens, methods=["GET"]),
    Route("/v1/admin/api-tokens", create_token, methods=["POST"]),
    Route("/v1/admin/api-tokens/{ref}", revoke_token, methods=["DELETE"]),
]
