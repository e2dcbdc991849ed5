"""The OpenAPI document is valid and describes every route the app serves."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Route

from mainspring.api.app import build_app
from mainspring.api.openapi_spec import UNDOCUMENTED, document
from mainspring.settings import Settings
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
    "/audit",
    "/environment",  # the header's environment switcher
)


MODES = pytest.mark.parametrize("production", [False, True], ids=["dev", "production"])


def _app(tmp_path: Path, production: bool) -> Starlette:
    db = str(tmp_path / "x.db")
    settings = (
        Settings(db=db, server_kind="cloud", signing_key="signkey-prod-" + "ab" * 32)
        if production
        else Settings(db=db)
    )
    return build_app(settings, open_connector(db))


def _served(app: Starlette) -> dict[str, set[str]]:
    """Path → methods of the REST API routes the app serves."""
    served: dict[str, set[str]] = {}
    for route in app.routes:
        if not isinstance(route, Route) or route.path in UNDOCUMENTED or route.path == "/":
            continue
        if route.path.startswith(DASHBOARD_PREFIXES) and not route.path.startswith("/v"):
            continue
        methods = {method.lower() for method in route.methods or () if method != "HEAD"}
        served.setdefault(route.path, set()).update(methods)
    return served


@MODES
def test_document_is_valid_openapi(production: bool) -> None:
    validate(document(production=production))  # type: ignore[arg-type]


@MODES
def test_every_route_is_documented(tmp_path: Path, production: bool) -> None:
    paths = document(production=production)["paths"]
    served = _served(_app(tmp_path, production))
    missing = [
        f"{method.upper()} {path}"
        for path, methods in served.items()
        for method in methods
        if method not in paths.get(path, {})
    ]
    assert missing == []


@MODES
def test_every_documented_route_is_served(tmp_path: Path, production: bool) -> None:
    served = _served(_app(tmp_path, production))
    paths = document(production=production)["paths"]
    extra = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method in operations
        if method not in served.get(path, set())
    ]
    assert extra == []


def test_production_routes_say_which_credential() -> None:
    doc = document(production=True)
    assert set(doc["components"]["securitySchemes"]) == {"apiToken", "eventKey", "session"}
    assert doc["security"] == [{"apiToken": []}]
    for path in ("/v1/admin/event-keys", "/v1/admin/api-tokens", "/v1/admin/apps"):
        assert {"401", "403"} <= set(doc["paths"][path]["post"]["responses"])
    assert doc["paths"]["/health"]["get"]["security"] == []
    assert doc["paths"]["/v1/events"]["post"]["security"] == [{"eventKey": []}]
    assert "securitySchemes" not in document()["components"]
    assert "/v1/admin/api-tokens" not in document()["paths"]


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
