"""The production-only part of the OpenAPI document: who may call what, and the admin API.

In production mode every API route takes `Authorization: Bearer <API token or signing key>`
(read-scope tokens may only read), the event API takes an event key, and `/auth/session`
answers a dashboard login session. Dev mode has no credentials and none of these routes.
"""

from __future__ import annotations

from mainspring.api.openapi_parts import (
    BAD,
    JSON,
    NOT_FOUND,
    STR,
    body,
    envelope,
    error,
    obj,
    op,
    path_param,
)
from mainspring.auth.keys import MAX_LABEL, SCOPES
from mainspring.auth.sessions import COOKIE

SECURITY_SCHEMES: JSON = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`POST /v1/admin/api-tokens`, `mainspring token create`) "
        "or the signing key (raw or as the SDKs hash it), which is an admin token. A `read` "
        "token may only GET; a signed-in dashboard session works too (with `X-CSRF-Token` "
        "for writes).",
    },
    "eventKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An event key (`INNGEST_EVENT_KEY` or `POST /v1/admin/event-keys`)",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE,
        "description": "The dashboard's login session (`POST /login`)",
    },
}
UNAUTHORIZED = {"401": error("no valid credential (production mode)")}
FORBIDDEN = {"403": error("a read-only token or session (production mode)")}
PUBLIC_PATHS = frozenset({"/health"})
EVENT_KEY_PATHS = frozenset({"/e/{key}"})

LABEL: JSON = {"type": "string", "minLength": 1, "maxLength": MAX_LABEL}
MS: JSON = {"type": "integer", "description": "epoch milliseconds"}
NMS: JSON = {"type": ["integer", "null"], "description": "epoch milliseconds"}
KEY_ITEM = obj(
    {"id": STR, "name": STR, "created_at": MS, "revoked_at": NMS, "hash_prefix": STR},
    ["id", "name", "created_at", "revoked_at", "hash_prefix"],
)
TOKEN_ITEM = obj(
    {
        "id": STR,
        "name": STR,
        "scope": {"type": "string", "enum": list(SCOPES)},
        "created_at": MS,
        "revoked_at": NMS,
        "hash_prefix": STR,
    },
    ["id", "name", "scope", "created_at", "revoked_at", "hash_prefix"],
)
REVOKED = envelope(obj({"revoked": {"const": True}}, ["revoked"]))
REF = path_param("ref", "id or name")

PATHS: dict[str, JSON] = {
    "/v1/admin/event-keys": {
        "get": op(
            "Admin",
            "Event keys (active and revoked; the secrets are never shown again)",
            envelope({"type": "array", "items": KEY_ITEM}),
        ),
        "post": op(
            "Admin",
            "Create an event key; the answer is the only time `key` is shown",
            {
                "201": envelope(
                    obj(
                        {"id": STR, "name": STR, "key": STR, "created_at": MS},
                        ["id", "name", "key", "created_at"],
                    )
                ),
                **BAD,
            },
            requestBody=body(obj({"name": LABEL}, ["name"]), True),
        ),
    },
    "/v1/admin/event-keys/{ref}": {
        "delete": op(
            "Admin",
            "Revoke an event key (by id or name)",
            {"200": REVOKED, **NOT_FOUND},
            parameters=[REF],
        )
    },
    "/v1/admin/api-tokens": {
        "get": op(
            "Admin",
            "API tokens (active and revoked; the secrets are never shown again)",
            envelope({"type": "array", "items": TOKEN_ITEM}),
        ),
        "post": op(
            "Admin",
            "Create an API token; the answer is the only time `token` is shown",
            {
                "201": envelope(
                    obj(
                        {
                            "id": STR,
                            "name": STR,
                            "scope": {"type": "string", "enum": list(SCOPES)},
                            "token": STR,
                            "created_at": MS,
                        },
                        ["id", "name", "scope", "token", "created_at"],
                    )
                ),
                **BAD,
            },
            requestBody=body(
                obj(
                    {"name": LABEL, "scope": {"type": "string", "enum": list(SCOPES)}},
                    ["name", "scope"],
                ),
                True,
            ),
        ),
    },
    "/v1/admin/api-tokens/{ref}": {
        "delete": op(
            "Admin",
            "Revoke an API token (by id or name)",
            {"200": REVOKED, **NOT_FOUND},
            parameters=[REF],
        )
    },
    "/auth/session": {
        "get": op(
            "Admin",
            "The signed-in session's scope and CSRF token (for scripts)",
            {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": obj(
                                {
                                    "scope": {"type": "string", "enum": list(SCOPES)},
                                    "csrf_token": STR,
                                },
                                ["scope", "csrf_token"],
                            )
                        }
                    },
                },
                "303": {"description": "no session: redirect to `/login`"},
            },
            security=[{"session": []}],
        )
    },
}


def secure(paths: dict[str, JSON]) -> dict[str, JSON]:
    """`paths` as production serves them: credentials per route, and their 401/403 answers."""
    out: dict[str, JSON] = {}
    for path, operations in paths.items():
        out[path] = {}
        for method, operation in operations.items():
            operation = {**operation, "responses": dict(operation["responses"])}
            if path in PUBLIC_PATHS:
                operation["security"] = []
            elif path in EVENT_KEY_PATHS:
                operation["security"] = []  # the key is the path parameter
                operation["responses"].update(UNAUTHORIZED)
            elif path == "/v1/events" and method == "post":
                operation["security"] = [{"eventKey": []}]
                operation["responses"].update(UNAUTHORIZED)
            elif "security" not in operation:
                operation["responses"].update(UNAUTHORIZED)
                operation["responses"].update(FORBIDDEN)
            out[path][method] = operation
    return out
