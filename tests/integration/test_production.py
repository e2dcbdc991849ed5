"""`mainspring start` with the official Python SDK in cloud mode (INNGEST_DEV=0, signing key set).

Signing both ways, bearer checks on the SDK's calls to us, event keys, API tokens and scopes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .harness import assert_stays, wait_until
from .production import (
    EVENT_KEY,
    CloudStack,
    bearer,
    new_signing_key,
    running_cloud_stack,
)

PROD_FUNCTIONS = 5


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudStack]:
    with running_cloud_stack(
        tmp_path_factory.mktemp("prod"),
        "prod_app",
        functions=PROD_FUNCTIONS,
        signing_key=new_signing_key(),
        server_args=["--state-limit", "1024"],
    ) as stack:
        yield stack


def test_a_full_run_succeeds_with_signed_calls_and_bearer_authenticated_sdk_calls(
    prod: CloudStack,
) -> None:
    run = prod.api.trigger_and_wait("prod/chain", {"n": 7})
    assert run["output"] == {
        "first": {"ratio": 0.1 + 0.2, "text": "déjà vu ✓", "n": 7},
        "second": (0.1 + 0.2) * 3,
    }


def test_state_over_the_limit_is_fetched_by_the_sdk_with_its_bearer_token(
    prod: CloudStack,
) -> None:
    run = prod.api.trigger_and_wait("prod/bulky")
    assert run["output"] == 6000


def test_every_response_announces_a_cloud_server(prod: CloudStack) -> None:
    for resp in (
        httpx.get(f"{prod.server.url}/health"),
        httpx.post(f"{prod.server.url}/e/wrong", json={}),
        prod.api.http.get("/v1/events"),
    ):
        assert resp.headers["x-inngest-server-kind"] == "cloud"


def test_the_server_logs_key_hashes_never_keys(prod: CloudStack) -> None:
    log = prod.server.stderr_path.read_text()
    key = prod.server.signing_key
    assert key not in log
    assert key.removeprefix("signkey-prod-") not in log
    assert "signing key sha256:" in log


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/fn/register"),
        ("GET", "/v0/runs/01J00000000000000000000000/actions"),
        ("GET", "/v0/runs/01J00000000000000000000000/batch"),
        ("POST", "/v1/checkpoint/01J00000000000000000000000/async"),
        ("POST", "/v1/traces/userland"),
        ("POST", "/v1/runs/01J00000000000000000000000/metadata"),
    ],
)
def test_sdk_calls_without_the_signing_key_are_refused(
    prod: CloudStack, method: str, path: str
) -> None:
    url = prod.server.url + path
    for headers in (
        {},
        {"Authorization": "Bearer undefined"},
        bearer(new_signing_key()),
        {"Authorization": f"Bearer {EVENT_KEY}"},
    ):
        resp = httpx.request(method, url, json={}, headers=headers, timeout=10)
        assert resp.status_code == 401, (headers, resp.text)
        assert resp.json()["status"] == 401


def test_register_with_the_key_hash_in_either_form_is_accepted(prod: CloudStack) -> None:
    digest = bearer(prod.server.signing_key)["Authorization"].removeprefix("Bearer ")
    payload = {"url": "http://127.0.0.1:1/api/inngest", "appName": "", "functions": []}
    for token in (digest, f"signkey-prod-{digest}"):
        resp = httpx.post(
            f"{prod.server.url}/fn/register",
            json=payload,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        # past the gate: the payload itself is then judged (an empty app name is a 400)
        assert resp.status_code == 400, resp.text


def test_metadata_and_userland_traces_take_the_signing_key_bearer(prod: CloudStack) -> None:
    auth = bearer(prod.server.signing_key)
    metadata = {"target": {}, "metadata": [{"kind": "userland.x", "values": {}}]}
    resp = httpx.post(
        f"{prod.server.url}/v1/runs/01J00000000000000000000000/metadata",
        json=metadata,
        headers=auth,
        timeout=10,
    )
    assert resp.status_code == 404, resp.text  # past the gate: no such run
    resp = httpx.post(f"{prod.server.url}/v1/traces/userland", json={}, headers=auth, timeout=10)
    assert (resp.status_code, resp.json()) == (200, {}), resp.text


def test_events_with_a_bad_key_are_refused_and_nothing_is_stored(prod: CloudStack) -> None:
    name = "prod/unauthorized"
    for key in ("wrong", "NO_EVENT_KEY_SET", EVENT_KEY + "x"):
        resp = prod.api.post_events_raw(json.dumps({"name": name}).encode(), key=key)
        assert resp.status_code == 401, resp.text
        assert resp.json() == {"error": "Event key not found", "status": 401}
    resp = httpx.post(f"{prod.server.url}/v1/events", json={"name": name}, timeout=10)
    assert resp.status_code == 401
    assert prod.api.list_events(name) == []
    prod.api.send_event(name)  # the right key still works
    assert len(prod.api.list_events(name)) == 1


def test_event_keys_created_and_revoked_through_the_api(prod: CloudStack) -> None:
    created = prod.api.http.post("/v1/admin/event-keys", json={"name": "github-cron"})
    assert created.status_code == 201, created.text
    key = created.json()["data"]["key"]
    listed = prod.api.data("/v1/admin/event-keys")
    assert any(row["name"] == "github-cron" for row in listed)
    assert all(key not in json.dumps(row) for row in listed)  # only hashes are kept
    name = "prod/from-cron"
    assert httpx.post(f"{prod.server.url}/e/{key}", json={"name": name}).status_code == 200
    revoked = prod.api.http.delete("/v1/admin/event-keys/github-cron")
    assert revoked.status_code == 200, revoked.text
    resp = httpx.post(f"{prod.server.url}/e/{key}", json={"name": name})
    assert resp.status_code == 401
    assert len(prod.api.list_events(name)) == 1


def test_api_token_scopes(prod: CloudStack) -> None:
    base = prod.server.url
    assert httpx.get(f"{base}/v1/events").status_code == 401
    assert (
        httpx.get(f"{base}/v1/events", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    made = prod.api.http.post("/v1/admin/api-tokens", json={"name": "grafana", "scope": "read"})
    assert made.status_code == 201, made.text
    read = {"Authorization": f"Bearer {made.json()['data']['token']}"}
    admin_made = prod.api.http.post("/v1/admin/api-tokens", json={"name": "ops", "scope": "admin"})
    admin = {"Authorization": f"Bearer {admin_made.json()['data']['token']}"}
    bad_scope = prod.api.http.post("/v1/admin/api-tokens", json={"name": "x", "scope": "root"})
    assert bad_scope.status_code == 400 and bad_scope.json()["field"] == "scope"

    assert httpx.get(f"{base}/v1/events", headers=read).status_code == 200
    assert httpx.get(f"{base}/v1/runs", headers=read).status_code == 200
    assert httpx.delete(f"{base}/v1/runs/01J000", headers=read).status_code == 403
    assert httpx.get(f"{base}/v1/admin/api-tokens", headers=read).status_code == 403
    assert httpx.post(f"{base}/invoke/prod-chain", json={}, headers=read).status_code == 403
    # an admin token may change things; a read token may not mint tokens
    assert httpx.get(f"{base}/v1/admin/api-tokens", headers=admin).status_code == 200
    minted = httpx.post(
        f"{base}/v1/admin/api-tokens", json={"name": "y", "scope": "admin"}, headers=read
    )
    assert minted.status_code == 403
    # revocation takes effect at once
    assert prod.api.http.delete("/v1/admin/api-tokens/grafana").status_code == 200
    assert httpx.get(f"{base}/v1/events", headers=read).status_code == 401
    assert httpx.get(f"{base}/health").status_code == 200  # load balancers need no token


def test_an_app_with_another_key_refuses_our_calls_and_the_run_fails_at_once(
    tmp_path: Path,
) -> None:
    """The app restarts with a key the server does not know: the SDK answers 401 to our
    signed call; the run fails on the first attempt with a message naming the keys."""
    key = new_signing_key()
    with running_cloud_stack(
        tmp_path, "prod_app", functions=PROD_FUNCTIONS, signing_key=key
    ) as stack:
        stack.app.stop()
        stack.app.extra_env.update({"INNGEST_SIGNING_KEY": new_signing_key()})
        stack.app.start()
        run = stack.api.trigger_and_wait("prod/chain", statuses="Failed", timeout=30)
        assert "INNGEST_SIGNING_KEY" in json.dumps(run.get("output")), run
        history = stack.api.data(f"/v1/runs/{run['run_id']}/history")
        assert [h for h in history if h["kind"] == "call.error"] == [], history  # no retry


def test_an_app_with_another_key_cannot_sync(tmp_path: Path) -> None:
    with running_cloud_stack(
        tmp_path,
        "prod_app",
        functions=PROD_FUNCTIONS,
        signing_key=new_signing_key(),
        app_key=new_signing_key(),
        wait=False,
    ) as stack:
        # The SDK's /fn/register carries the hash of its own key: refused, nothing registered.
        assert_stays(lambda: stack.api.function_count() == 0, duration=4, what="no functions")
        assert "a valid signing key bearer token is required" in stack.app.log_path.read_text()
        # the SDK answers our PUT with HTTP 200 and the refusal in the body: reported as failed
        wait_until(
            lambda: True if "registration failed" in stack.server.stderr_path.read_text() else None,
            timeout=20,
            what="the server to log the failed sync",
        )


def test_graphql_reads_with_a_read_token_and_changes_things_only_as_admin(
    prod: CloudStack,
) -> None:
    gql = f"{prod.server.url}/v0/gql"
    query = {"query": "{ functions { slug } }"}
    mutation = {"query": 'mutation { deleteAppByName(name: "no-such-app") }'}
    assert httpx.post(gql, json=query).status_code == 401
    assert httpx.post(gql, json=mutation).status_code == 401
    made = prod.api.http.post("/v1/admin/api-tokens", json={"name": "gql-reader", "scope": "read"})
    read = {"Authorization": f"Bearer {made.json()['data']['token']}"}

    answered = httpx.post(gql, json=query, headers=read)
    assert answered.status_code == 200, answered.text
    assert {"slug": "prod-chain"} in answered.json()["data"]["functions"]
    for body in (
        mutation,
        # a mutation beside the query that is run is refused as well
        {"query": "query A { functions { slug } } " + mutation["query"], "operationName": "A"},
    ):
        denied = httpx.post(gql, json=body, headers=read)
        assert denied.status_code == 403, denied.text
        assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    allowed = prod.api.http.post("/v0/gql", json=mutation)  # the signing key: admin
    assert allowed.status_code == 200 and allowed.json() == {"data": {"deleteAppByName": False}}
