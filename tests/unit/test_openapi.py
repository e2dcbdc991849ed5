"""The OpenAPI document is valid and describes every route the app serves."""

from __future__ import annotations

from pathlib import Path

import httpx
from openapi_spec_validator import validate
from starlette.routing import Route

from mainspring.api.app import build_app
from mainspring.api.openapi_spec import UNDOCUMENTED, document
from mainspring.config import Settings
from mainspring.store import open_connector

# Dashboard pages belong to the HTML UI, not to the REST API.
DASHBOARD_PREFIXES = (
    "/ui",
    "/static",
    "/login",
    "/logout",
    "/runs",
    "/events",
    "/functions",
    "/apps",
    "/operations",
)


def test_document_is_valid_openapi() -> None:
    validate(document())  # type: ignore[arg-type]


def test_every_route_is_documented(tmp_path: Path) -> None:
    app = build_app(Settings(db=str(tmp_path / "x.db")), open_connector(str(tmp_path / "x.db")))
    paths = document()["paths"]
    missing = []
    for route in app.routes:
        if not isinstance(route, Route) or route.path in UNDOCUMENTED or route.path == "/":
            continue
        if route.path.startswith(DASHBOARD_PREFIXES) and not route.path.startswith("/v"):
            continue
        for method in route.methods or ():
            if method != "HEAD" and method.lower() not in paths.get(route.path, {}):
                missing.append(f"{method} {route.path}")
    assert missing == []


async def test_served_with_an_interactive_page(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    app = build_app(Settings(db=db), open_connector(db))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        spec = await client.get("/openapi.json")
        assert spec.status_code == 200 and spec.json()["openapi"] == "3.1.0"
        page = await client.get("/docs")
        assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
        asset = await client.get("/docs/assets/swagger-ui-bundle.js")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(
            "application/javascript"
        )
        assert (await client.get("/docs/assets/nope.js")).status_code == 404
