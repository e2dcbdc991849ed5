"""Which credential each path needs in production mode (the contract with the dashboard)."""

from __future__ import annotations

import pytest

from mainspring.auth.paths import Zone, classify, needed_scope

CASES = [
    ("GET", "/health", Zone.PUBLIC),
    ("GET", "/login", Zone.PUBLIC),
    ("POST", "/login", Zone.PUBLIC),
    ("GET", "/static/htmx.min.js", Zone.PUBLIC),
    ("POST", "/fn/register", Zone.SDK),
    ("GET", "/v0/runs/01H/actions", Zone.SDK),
    ("GET", "/v0/runs/01H/batch", Zone.SDK),
    ("POST", "/v1/checkpoint/01H/async", Zone.SDK),
    ("POST", "/v1/checkpoint", Zone.SDK),
    ("POST", "/v1/checkpoint/01H/steps", Zone.SDK),
    ("GET", "/v1/checkpoint/01H/output", Zone.PUBLIC),  # the run token is checked by the route
    ("GET", "/v1/http/runs/01H/output", Zone.PUBLIC),
    ("GET", "/v1/http/runs/01H", Zone.API),
    ("POST", "/v1/traces/userland", Zone.SDK),
    ("POST", "/v1/runs/01H/metadata", Zone.SDK),
    ("GET", "/v1/runs/01H/metadata", Zone.API),
    ("POST", "/v1/realtime/publish", Zone.SDK),
    ("POST", "/v1/realtime/token", Zone.SDK),
    ("GET", "/v1/realtime/sse", Zone.REALTIME),
    ("GET", "/v1/realtime/connect", Zone.REALTIME),
    ("POST", "/v1/realtime/publish/tee", Zone.REALTIME),  # the handler checks the credential
    ("GET", "/v1/realtime/other", Zone.API),
    ("POST", "/e/some-key", Zone.EVENT),
    ("POST", "/e/", Zone.EVENT),
    ("POST", "/v1/events", Zone.EVENT),
    ("GET", "/v1/events", Zone.API),
    ("GET", "/v1/runs/01H", Zone.API),
    ("DELETE", "/v1/runs/01H", Zone.API),
    ("POST", "/v2/anything", Zone.API),
    ("POST", "/invoke/app-fn", Zone.API),
    ("GET", "/metrics", Zone.API),
    ("GET", "/openapi.json", Zone.API),
    ("GET", "/docs", Zone.API),
    ("GET", "/dev", Zone.API),
    ("POST", "/fn/other", Zone.API),
    ("GET", "/v1/admin/api-tokens", Zone.ADMIN_API),
    ("GET", "/", Zone.DASHBOARD),
    ("GET", "/runs", Zone.DASHBOARD),
    ("POST", "/ui/runs/01H/cancel", Zone.DASHBOARD),
    ("POST", "/logout", Zone.DASHBOARD),
    ("GET", "/healthz", Zone.DASHBOARD),
    ("GET", "/fn//register", Zone.API),
    ("GET", "/static", Zone.DASHBOARD),
]


@pytest.mark.parametrize(("method", "path", "zone"), CASES)
def test_classify(method: str, path: str, zone: Zone) -> None:
    assert classify(method, path) is zone


@pytest.mark.parametrize(
    ("zone", "method", "scope"),
    [
        (Zone.API, "GET", "read"),
        (Zone.API, "HEAD", "read"),
        (Zone.API, "POST", "admin"),
        (Zone.API, "DELETE", "admin"),
        (Zone.ADMIN_API, "GET", "admin"),
    ],
)
def test_needed_scope(zone: Zone, method: str, scope: str) -> None:
    assert needed_scope(zone, method) == scope


def test_graphql_is_let_through_with_the_read_scope_its_handler_checks_mutations() -> None:
    assert classify("POST", "/v0/gql") is Zone.API
    assert needed_scope(Zone.API, "POST", "/v0/gql") == "read"
    assert needed_scope(Zone.API, "DELETE", "/v0/gql") == "admin"
    assert needed_scope(Zone.API, "POST", "/v0/connect/start") == "admin"
    assert needed_scope(Zone.API, "POST", "/v0/gql/") == "admin"
