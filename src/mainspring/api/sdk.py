"""Routes the SDKs call: `POST /fn/register`, and `GET /dev` (the dev server's info)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import __version__, errors
from mainspring.api.body import read_limited
from mainspring.api.errors import JSONResponse, error_body, invalid_input
from mainspring.api.state import services
from mainspring.domain.ids import new_uuid


async def register(request: Request) -> Response:
    app = services(request)
    try:
        raw = await read_limited(request, app.settings.max_body_bytes)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise errors.InvalidFunctionConfig("body is not valid JSON", field="body") from None
        result = await app.sync.register(
            body, request.headers.get("x-inngest-expected-server-kind")
        )
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    return JSONResponse(
        {"ok": True, "modified": result.modified, "app_id": result.app_id, "sync_id": new_uuid()}
    )


async def dev_info(request: Request) -> Response:
    app = services(request)
    if app.settings.server_kind != "dev":
        return JSONResponse(error_body(404, "not found"), status_code=404)
    apps = {row["url"]: row for row in await app.reads.apps()}
    handlers = []
    for url, state in app.sync.urls.items():
        row = apps.get(url)
        handlers.append(
            {
                "url": url,
                "app_id": row["name"] if row else None,
                "error": state.error,
                "synced_at": state.synced_at,
            }
        )
    functions = [
        {
            "id": function.id,
            "slug": function.slug,
            "name": function.name,
            "url": function.url,
            "triggers": [
                {
                    key: value
                    for key, value in (
                        ("event", t.event),
                        ("expression", t.expression),
                        ("cron", t.cron),
                    )
                    if value
                }
                for t in function.triggers
            ],
        }
        for function in app.registry.functions()
    ]
    return JSONResponse(
        {
            "version": __version__,
            "authed": False,
            "startOpts": {"sdkURLs": list(app.sync.urls), "dev": True},
            "functions": functions,
            "handlers": handlers,
            "isSingleNodeService": True,
            "isMissingSigningKey": True,
            "isMissingEventKeys": True,
            "features": {},
        }
    )


routes = [
    Route("/fn/register", register, methods=["POST"]),
    Route("/dev", dev_info, methods=["GET"]),
]
