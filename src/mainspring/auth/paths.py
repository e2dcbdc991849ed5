"""Which kind of credential a request path needs in production mode (pure; unit-tested).

Agreed with the dashboard: API prefixes are `/e/ /fn/ /v0/ /v1/ /v2/ /invoke/ /health /metrics
/openapi.json /docs`; SDK→server routes (register, `use_api` reads, checkpoints, userland traces,
`POST /v1/runs/{id}/metadata`, realtime publishing and tokens) take the signing-key bearer hash,
`/e/{key}` the event key, the rest of the API an API token; `/health`, `/static/…` and `/login` are
public, and so is a durable endpoint's run output (its run token is checked by the route); realtime
subscribers (`/v1/realtime/sse`, `/v1/realtime/connect`) bring a subscription token and a durable
endpoint's stream (`/v1/realtime/publish/tee`) the signing key or a publish token, which the
handlers check; every other path is the dashboard and needs a login session.
"""

from __future__ import annotations

import enum


class Zone(enum.Enum):
    PUBLIC = "public"
    SDK = "sdk"
    EVENT = "event"
    API = "api"
    ADMIN_API = "admin_api"
    REALTIME = "realtime"  # subscribers: the handler checks their subscription token
    DASHBOARD = "dashboard"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PUBLIC_EXACT = frozenset({"/health", "/login", "/favicon.ico"})
_PUBLIC_PREFIXES = ("/static/",)
_SDK_PREFIXES = ("/v0/runs/", "/v1/checkpoint/", "/v1/traces/")
_SDK_EXACT = frozenset(
    {
        "/fn/register",
        "/v1/checkpoint",
        "/v1/realtime/publish",
        "/v1/realtime/token",
        "/v0/connect/start",
        "/v0/connect/flush",
    }
)
# Subscribers bring a subscription token; the tee takes the signing key or a publish token.
_REALTIME_EXACT = frozenset(
    {"/v1/realtime/sse", "/v1/realtime/connect", "/v1/realtime/publish/tee"}
)
_API_PREFIXES = ("/fn/", "/v0/", "/v1/", "/v2/", "/invoke/")
_API_EXACT = frozenset({"/metrics", "/openapi.json", "/docs", "/dev", "/v0", "/v1", "/v2"})
# POSTs that may only read: the gate asks for the read scope and the handler for admin when the
# request changes state (GraphQL: a document with a mutation).
READ_POSTS = frozenset({"/v0/gql"})


def _run_output(path: str) -> bool:
    """A durable endpoint's output: its run token (in the query) is the credential."""
    return path.endswith("/output") and path.startswith(("/v1/checkpoint/", "/v1/http/runs/"))


def classify(method: str, path: str) -> Zone:
    if path in _PUBLIC_EXACT or path.startswith(_PUBLIC_PREFIXES) or _run_output(path):
        return Zone.PUBLIC
    if path in _SDK_EXACT or path.startswith(_SDK_PREFIXES) or _run_metadata(method, path):
        return Zone.SDK
    if path in _REALTIME_EXACT:
        return Zone.REALTIME
    if path.startswith("/e/") or (path == "/v1/events" and method == "POST"):
        return Zone.EVENT
    if path.startswith("/v1/admin/") or path == "/v1/admin":
        return Zone.ADMIN_API
    if path in _API_EXACT or path.startswith(_API_PREFIXES) or path.startswith("/docs/"):
        return Zone.API
    return Zone.DASHBOARD


def _run_metadata(method: str, path: str) -> bool:
    """`POST /v1/runs/{id}/metadata`: the SDKs send run metadata with the signing key."""
    return method == "POST" and path.startswith("/v1/runs/") and path.endswith("/metadata")


def needed_scope(zone: Zone, method: str, path: str = "") -> str:
    """Reads need the read scope; anything that changes state, and all of admin, needs admin.
    A `READ_POSTS` path is let through with the read scope: its handler asks for admin."""
    if zone is Zone.ADMIN_API:
        return "admin"
    if method not in SAFE_METHODS and not (method == "POST" and path in READ_POSTS):
        return "admin"
    return "read"
