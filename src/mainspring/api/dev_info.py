"""`GET /dev`: the dev server's description of itself, in `inngest-cli dev`'s shape.

Inngest's dev server answers `{version, authed, startOpts, functions, handlers,
isSingleNodeService, isMissingSigningKey, isMissingEventKeys, features}`; its UI and the
official SDKs' example suites read it (the TypeScript suite checks each function's `name`, `id`,
`triggers` and `steps: [{id, name, uri}]` with zod). A function is the config its app
registered, with our ids and steps on top; a handler is one app URL we sync, with Inngest's
`functionIDs`, `sdk`, `createdAt`, `updatedAt` and our `url`, `app_id`, `error`, `synced_at`.
`apps` (ours) lists the synced apps themselves. Only served by `mainspring dev`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mainspring import __version__
from mainspring.api.errors import JSONResponse, error_body
from mainspring.api.state import services
from mainspring.domain.durations import rfc3339
from mainspring.domain.functions import FunctionDef
from mainspring.settings import Settings
from mainspring.store.base import Row


async def dev_info(request: Request) -> Response:
    app = services(request)
    if app.settings.server_kind != "dev":
        return JSONResponse(error_body(404, "not found"), status_code=404)
    functions = app.registry.functions()
    apps = await app.reads.apps()
    by_url = {row["url"]: row for row in apps}
    handlers = [
        _handler(url, by_url.get(url), state.error, state.synced_at, functions)
        for url, state in app.sync.urls.items()
    ]
    return JSONResponse(
        {
            "version": __version__,
            "authed": False,
            "startOpts": _start_opts(app.settings, list(app.sync.urls)),
            "functions": [_function(function) for function in functions],
            "handlers": handlers,
            "apps": [_app(row, functions) for row in apps],
            "isSingleNodeService": True,
            "isMissingSigningKey": False,
            "isMissingEventKeys": False,
            "features": {},
        }
    )


def _start_opts(settings: Settings, urls: list[str]) -> dict[str, Any]:
    """`inngest-cli dev`'s start options, read from ours (`sdkURLs` and `dev` kept from our
    earlier shape). A fixed retry interval is ours when the backoff does not grow."""
    fixed = settings.backoff_base_ms == settings.backoff_max_ms
    return {
        "urls": urls,
        "autodiscover": settings.discovery,
        "poll": settings.poll,
        "poll_interval": int(settings.poll_interval_s),
        "retry_interval": settings.backoff_base_ms // 1000 if fixed else 0,
        "queue_workers": settings.max_in_flight,
        "require_keys": False,
        "persist": True,
        "sdkURLs": urls,
        "dev": True,
    }


def _function(function: FunctionDef) -> dict[str, Any]:
    """The registered config, then what we know of it: ids, URL, triggers, steps."""
    return {
        **function.config,
        "id": function.id,
        "slug": function.slug,
        "name": function.name,
        "app_id": function.app_id,
        "url": function.url,
        "triggers": [
            {
                key: value
                for key, value in (
                    ("event", trigger.event),
                    ("expression", trigger.expression),
                    ("cron", trigger.cron),
                )
                if value
            }
            for trigger in function.triggers
        ],
        "steps": _steps(function),
    }


def _steps(function: FunctionDef) -> list[dict[str, str]]:
    """The function's steps as the dev server lists them: `{id, name, uri}`, the uri being the
    URL the step is called at (`…?fnId=<slug>&stepId=step`), as the SDK registered it."""
    registered = function.config.get("steps") or {}
    return [
        {
            "id": str(step.get("id") or key),
            "name": str(step.get("name") or key),
            "uri": str((step.get("runtime") or {}).get("url") or function.url),
        }
        for key, step in registered.items()
        if isinstance(step, dict)
    ]


def _handler(
    url: str,
    row: Row | None,
    error: str | None,
    synced_at: Any,
    functions: list[FunctionDef],
) -> dict[str, Any]:
    mine = [f for f in functions if row is not None and f.app_id == row["id"]]
    return {
        "url": url,
        "app_id": row["name"] if row else None,
        "error": error,
        "synced_at": synced_at,
        "functionIDs": [f.id for f in mine],
        "sdk": {
            "url": url,
            "appName": row["name"] if row else None,
            "sdk": row["sdk"] if row else None,
            "framework": row["framework"] if row else None,
            "functions": [_function(f) for f in mine],
        },
        "createdAt": rfc3339(row["created_at"]) if row else None,
        "updatedAt": rfc3339(row["synced_at"]) if row else None,
    }


def _app(row: Row, functions: list[FunctionDef]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "url": row["url"],
        "sdk": row["sdk"],
        "framework": row["framework"],
        "checksum": row["checksum"],
        "error": row["error"],
        "syncedAt": rfc3339(row["synced_at"]),
        "functionCount": sum(1 for f in functions if f.app_id == row["id"]),
    }
