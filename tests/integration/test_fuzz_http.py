"""Fuzzing the running production server over HTTP (hypothesis): the event API, `/fn/register`
and the REST API answer every input with 2xx/4xx, never 5xx, and stay healthy.

schemathesis against `/openapi.json` runs in test_schemathesis.py; what it found is replayed
here as plain cases. Bounded: replays in seconds in CI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .production import EVENT_KEY, CloudServer, bearer, running_cloud_server

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with running_cloud_server(tmp_path_factory.mktemp("fuzz")) as server:
        yield server


@pytest.fixture(scope="module")
def client(server: CloudServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def _ok(resp: httpx.Response) -> None:
    assert resp.status_code < 500, f"{resp.request.method} {resp.request.url}: {resp.text[:300]}"
    if resp.status_code >= 400:  # the router's own 404 and 405 included
        assert "error" in resp.json(), resp.text  # 4xx JSON naming the problem


@FUZZ
@given(body=st.binary(max_size=300) | values.map(lambda v: json.dumps(v).encode()))
def test_event_api(client: httpx.Client, body: bytes) -> None:
    _ok(client.post(f"/e/{EVENT_KEY}", content=body, headers={"Content-Type": "application/json"}))


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {"url": st.just("http://127.0.0.1:9/api/inngest")},
        optional={
            "appName": st.text(max_size=20) | scalars,
            "functions": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "id": st.text(max_size=10) | scalars,
                        "triggers": st.lists(values, max_size=3) | scalars,
                        "steps": values,
                        "cancel": values,
                        "timeouts": values,
                    },
                ),
                max_size=3,
            )
            | scalars,
        },
    )
    | values
)
def test_register(client: httpx.Client, server: CloudServer, body: Any) -> None:
    _ok(client.post("/fn/register", json=body, headers=bearer(server.signing_key)))


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/v1/events/{}",
            "/v1/events/{}/runs",
            "/v1/runs/{}",
            "/v1/runs/{}/steps",
            "/v1/runs/{}/history",
            "/v1/events?name={}&limit={}",
            "/v1/runs?function_id={}&status={}&limit={}",
        ]
    ),
    parts=st.lists(
        st.text(alphabet=st.characters(codec="ascii"), max_size=12),
        min_size=3,
        max_size=3,
    ),
)
def test_rest_reads(client: httpx.Client, server: CloudServer, path: str, parts: list[str]) -> None:
    from urllib.parse import quote

    url = path.format(*(quote(p, safe="") for p in parts))
    _ok(client.get(url, headers={"Authorization": f"Bearer {server.signing_key}"}))


# Found by schemathesis (test_schemathesis.py), replayed here without its randomness.
@pytest.mark.parametrize(
    "url",
    ["\u00a2\u009eF", "http://", "http://a b/", "http://[::1/", "http://x:99999/", "ftp://x"],
)
def test_admin_apps_rejects_a_url_it_cannot_call(
    client: httpx.Client, server: CloudServer, url: str
) -> None:
    """`http://¢\x9eF` used to pass, be kept for re-syncing and answer 502 with the HTTP
    client's parse error; a URL the client cannot call is bad input (400 naming `url`)."""
    resp = client.post(
        "/v1/admin/apps",
        json={"url": url},
        headers={"Authorization": f"Bearer {server.signing_key}"},
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["field"] == "url"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/runs/a%00b", "path"),
        ("/v2/runs/a%00/trace", "path"),
        ("/v1/events/a%00b", "path"),
        ("/v1/runs?function_id=a%00b", "function_id"),
        ("/v1/events?name=a%00", "name"),
    ],
)
def test_nul_in_path_or_query_is_bad_input(
    client: httpx.Client, server: CloudServer, url: str, field: str
) -> None:
    """PostgreSQL text cannot hold NUL: these reached psycopg and answered 500 there."""
    resp = client.get(url, headers={"Authorization": f"Bearer {server.signing_key}"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["field"] == field


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"/e/{EVENT_KEY}", {"name": "a\u0000b"}),
        ("/v1/kill-switch", {"reason": "a\u0000"}),
        ("/v1/replays", {"run_ids": ["a\u0000"]}),
        ("/v1/cancellations", {"function_id": "a\u0000", "started_before": "2026-01-01T00:00:00Z"}),
    ],
)
def test_nul_in_a_body_is_never_a_server_error(
    client: httpx.Client, server: CloudServer, path: str, body: dict[str, Any]
) -> None:
    """500 on PostgreSQL before; now 400 there (SQLite stores NUL, so it may accept)."""
    resp = client.post(path, json=body, headers={"Authorization": f"Bearer {server.signing_key}"})
    _ok(resp)
    if resp.status_code == 400 and resp.json().get("field") == "body":
        assert "NUL" in resp.json()["error"]
    client.delete("/v1/kill-switch", headers={"Authorization": f"Bearer {server.signing_key}"})


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/kill-switch", {"GET", "HEAD", "POST", "DELETE"}),
        ("/v1/cancellations", {"GET", "HEAD", "POST"}),
        ("/v1/runs/01J0000000000000000000000", {"GET", "HEAD", "DELETE"}),
        ("/v1/admin/api-tokens", {"GET", "HEAD", "POST"}),
    ],
)
def test_method_not_allowed_lists_every_method(
    client: httpx.Client, server: CloudServer, path: str, methods: set[str]
) -> None:
    """A path split over one handler per method answered 405 with only the first handler's
    methods in `Allow`, as text; now every method, in the JSON error shape."""
    resp = client.request("PATCH", path, headers={"Authorization": f"Bearer {server.signing_key}"})
    assert resp.status_code == 405
    assert {m.strip() for m in resp.headers["allow"].split(",")} == methods
    assert resp.json()["status"] == 405


def test_still_healthy_after_fuzzing(client: httpx.Client) -> None:
    assert client.get("/health").status_code == 200
