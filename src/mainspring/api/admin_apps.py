"""`POST /v1/admin/apps {"url"}`: sync an app by URL (production has no auto-discovery).

The server PUTs the URL (signed in production) and keeps re-syncing it every poll interval.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.body import read_json
from mainspring.api.errors import JSONResponse, invalid_input
from mainspring.api.state import services

MAX_URL_LENGTH = 2048


async def sync_app(request: Request) -> Response:
    app = services(request)
    try:
        body = await read_json(request, 16 * 1024)
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL_LENGTH:
            raise errors.InvalidInput(
                f"url must be a string of 1-{MAX_URL_LENGTH} characters", field="url"
            )
        state = await app.sync.add_url(url)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    status = 200 if state.error is None else 502
    return JSONResponse(
        {"data": {"url": state.url, "error": state.error, "synced_at": state.synced_at}},
        status_code=status,
    )


routes = [Route("/v1/admin/apps", sync_app, methods=["POST"])]
