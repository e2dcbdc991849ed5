"""`GET /openapi.json` and the interactive API page at `/docs`.

The page is Swagger UI 5.35.0 (npm `swagger-ui-dist`, Apache-2.0), vendored in
`api/docs_assets/` so that no CDN or build step is needed; its source-map reference is removed.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse, not_found
from mainspring.api.openapi_spec import document
from mainspring.api.state import services

ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
}
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Mainspring REST API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
"""


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document(production=services(request).settings.production))


async def docs_page(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def docs_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        return not_found("no such asset")
    body = resources.files("mainspring.api").joinpath("docs_assets", name).read_bytes()
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(body, media_type=ASSETS[name], headers=headers)


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs_page, methods=["GET"]),
    Route("/docs/assets/{name}", docs_asset, methods=["GET"]),
]
