"""Environments in production mode (`mainspring start --env staging`) through the official Python
SDK in cloud mode: event keys belong to one environment, and API tokens may be limited to some.

The same app runs twice: for production with the configured event key, and with
`INNGEST_ENV=staging` and a staging key created through the admin API. The key decides where an
event goes (as in Inngest Cloud); a token limited to staging reads staging and is refused
elsewhere.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .harness import AppProcess, assert_stays, free_port, wait_until
from .production import EVENT_KEY, CloudApi, CloudServer, new_signing_key

SLUGS = {"envs-echo", "envs-limited", "envs-relay"}


@dataclass
class World:
    server: CloudServer
    admin: CloudApi  # the signing key: an admin token for every environment
    apps: dict[str, AppProcess]
    staging_key: str

    def env_api(self, env: str) -> CloudApi:
        api = CloudApi(self.server)
        api.http.params = api.http.params.set("env", env)
        return api

    def app_send(self, env: str, name: str, data: dict[str, Any]) -> str:
        """The app sends an event with `client.send` (its own key and INNGEST_ENV)."""
        resp = httpx.post(
            f"http://127.0.0.1:{self.apps[env].port}/send", json={"name": name, "data": data}
        )
        assert resp.status_code == 200, resp.text
        ids = resp.json()
        assert isinstance(ids, list) and len(ids) == 1, ids
        return str(ids[0])


def _start_app(server: CloudServer, workdir: Path, env: str, event_key: str) -> AppProcess:
    extra = {
        "INNGEST_DEV": "0",
        "INNGEST_SIGNING_KEY": server.signing_key,
        "INNGEST_EVENT_KEY": event_key,
    }
    if env != "production":
        extra["INNGEST_ENV"] = env
    app = AppProcess(
        "env_app",
        port=free_port(),
        server_url=server.url,
        log_dir=workdir,
        name=f"app-{env}",
        extra_env=extra,
    )
    app.start()
    # a deploy hook's PUT: the SDK registers with its signing key and X-Inngest-Env
    resp = httpx.put(app.url, timeout=15.0)
    assert resp.status_code == 200, f"{resp.text}\n{app.log_path.read_text()[-2000:]}"
    return app


def _synced(api: CloudApi) -> set[str]:
    return {fn["function_id"] for fn in api.data("/v1/functions")}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("environments-production")
    server = CloudServer(
        signing_key=new_signing_key(),
        event_keys=(EVENT_KEY,),
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        extra_args=["--env", "staging"],
    )
    server.start()
    admin = CloudApi(server)
    apps: dict[str, AppProcess] = {}
    try:
        made = admin.http.post("/v1/admin/event-keys", json={"name": "stg", "env": "staging"})
        assert made.status_code == 201, made.text
        assert made.json()["data"]["env"] == "staging"
        staging_key = made.json()["data"]["key"]
        apps["production"] = _start_app(server, workdir, "production", EVENT_KEY)
        apps["staging"] = _start_app(server, workdir, "staging", staging_key)
        world = World(server, admin, apps, staging_key)
        for env in ("production", "staging"):
            api = world.env_api(env)
            wait_until(
                lambda api=api: SLUGS <= _synced(api) or None, timeout=20, what=f"{env} synced"
            )
        yield world
    finally:
        admin.close()
        for app in apps.values():
            app.stop()
        server.stop()
        server.release_db()


def _events(api: CloudApi, name: str) -> list[Any]:
    return [event["data"].get("n") for event in api.list_events(name)]


def test_an_app_with_a_staging_key_sends_events_that_run_in_staging_only(world: World) -> None:
    staging, prod = world.env_api("staging"), world.env_api("production")
    internal = world.app_send("staging", "env/echo", {"n": "from-staging-app"})
    run = staging.wait_for_run_status(str(staging.run_for_event(internal)["run_id"]))
    assert run["output"] == {"env": "staging", "n": "from-staging-app"}
    assert "from-staging-app" not in _events(prod, "env/echo")

    # the SDK's own send from inside a staging run carries the staging key too
    relay = staging.run_for_event(world.app_send("staging", "env/relay", {}))
    assert staging.wait_for_run_status(str(relay["run_id"]))["output"] == "staging"
    wait_until(
        lambda: "relayed" in _events(staging, "env/echo") or None,
        timeout=20,
        what="the relayed event in staging",
    )
    assert "relayed" not in _events(prod, "env/echo")


def test_a_production_key_never_reaches_staging(world: World) -> None:
    staging, prod = world.env_api("staging"), world.env_api("production")
    internal = world.app_send("production", "env/echo", {"n": "from-prod-app"})
    run = prod.wait_for_run_status(str(prod.run_for_event(internal)["run_id"]))
    assert run["output"] == {"env": "production", "n": "from-prod-app"}

    # a production key naming staging in X-Inngest-Env: the key decides, the event stays in
    # production (Inngest Cloud: the key names the environment)
    resp = httpx.post(
        f"{world.server.url}/e/{EVENT_KEY}",
        json={"name": "env/echo", "data": {"n": "header-says-staging"}},
        headers={"X-Inngest-Env": "staging"},
    )
    assert resp.status_code == 200, resp.text
    run = prod.wait_for_run_status(str(prod.run_for_event(resp.json()["ids"][0])["run_id"]))
    assert run["output"]["n"] == "header-says-staging" and run["output"]["env"] == "production"
    assert_stays(
        lambda: not {"from-prod-app", "header-says-staging"} & set(_events(staging, "env/echo")),
        duration=1.0,
        what="nothing of production's in staging",
    )


def test_event_key_environments_are_checked_and_listed(world: World) -> None:
    for env, message in (("nowhere", "not known"), ("../etc", "environment name")):
        resp = world.admin.http.post("/v1/admin/event-keys", json={"name": "x", "env": env})
        assert resp.status_code == 400, resp.text
        assert resp.json()["field"] == "env" and message in resp.json()["error"], resp.text
    listed = {row["name"]: row for row in world.admin.data("/v1/admin/event-keys")}
    assert listed["stg"]["env"] == "staging"
    assert world.staging_key not in str(listed)


def test_a_token_limited_to_staging(world: World) -> None:
    base = world.server.url
    made = world.admin.http.post(
        "/v1/admin/api-tokens",
        json={"name": "stg-ops", "scope": "admin", "environments": ["staging"]},
    )
    assert made.status_code == 201, made.text
    assert made.json()["data"]["environments"] == ["staging"]
    auth = {"Authorization": f"Bearer {made.json()['data']['token']}"}

    staging_runs = httpx.get(f"{base}/v1/runs", params={"env": "staging"}, headers=auth)
    assert staging_runs.status_code == 200, staging_runs.text
    assert staging_runs.json()["data"], "the staging runs of the tests before"
    # naming no environment, a token for staging only is in staging
    unnamed = httpx.get(f"{base}/v1/runs", headers=auth)
    assert unnamed.status_code == 200 and unnamed.json()["data"] == staging_runs.json()["data"]
    for params, headers in (
        ({"env": "production"}, {}),
        ({}, {"X-Inngest-Env": "production"}),
    ):
        refused = httpx.get(f"{base}/v1/runs", params=params, headers={**auth, **headers})
        assert refused.status_code == 403, refused.text
        assert refused.json()["field"] == "env" and refused.json()["env"] == "production"
        assert "production" in refused.json()["error"]

    shown = httpx.get(f"{base}/v1/environments", headers=auth)
    assert shown.status_code == 200, shown.text
    assert [row["name"] for row in shown.json()["data"]] == ["staging"]
    query = {"query": "{ envs(first: 10) { edges { node { name } } } }"}
    listed = httpx.post(f"{base}/v0/gql", json=query, params={"env": "staging"}, headers=auth)
    assert listed.status_code == 200 and "errors" not in listed.json(), listed.text
    names_shown = [edge["node"]["name"] for edge in listed.json()["data"]["envs"]["edges"]]
    assert names_shown == ["staging"], "GraphQL shows a limited token its environments only"

    # the switch of every environment, and keys and tokens (server-wide), need a token for all
    every = httpx.post(
        f"{base}/v1/kill-switch",
        params={"env": "staging"},
        json={"all_environments": True},
        headers=auth,
    )
    assert every.status_code == 403, every.text
    for path in ("/v1/admin/api-tokens", "/v1/admin/event-keys"):
        assert httpx.get(f"{base}{path}", headers=auth).status_code == 403
    assert world.admin.data("/v1/kill-switch")["all_environments"]["active"] is False

    listed = {row["name"]: row for row in world.admin.data("/v1/admin/api-tokens")}
    assert listed["stg-ops"]["environments"] == ["staging"]
    unrestricted = world.admin.http.post(
        "/v1/admin/api-tokens", json={"name": "all", "scope": "read"}
    )
    assert unrestricted.json()["data"]["environments"] is None
    bad = world.admin.http.post(
        "/v1/admin/api-tokens", json={"name": "b", "scope": "read", "environments": []}
    )
    assert bad.status_code == 400 and bad.json()["field"] == "environments", bad.text


def test_a_session_signed_in_with_a_limited_token_is_limited_too(world: World) -> None:
    made = world.admin.http.post(
        "/v1/admin/api-tokens",
        json={"name": "stg-viewer", "scope": "read", "environments": ["staging"]},
    )
    assert made.status_code == 201, made.text
    with httpx.Client(base_url=world.server.url, timeout=15.0) as client:
        client.get("/login")
        form = {
            "token": made.json()["data"]["token"],
            "csrf_token": client.cookies["mainspring_login_csrf"],
            "next": "/",
        }
        assert client.post("/login", data=form).status_code == 303
        session = client.get("/auth/session")
        assert session.status_code == 200 and session.json()["environments"] == ["staging"]
        assert client.get("/v1/runs", params={"env": "staging"}).status_code == 200
        refused = client.get("/v1/runs", params={"env": "production"})
        assert refused.status_code == 403 and refused.json()["env"] == "production", refused.text
        # the dashboard's pages too: production's are refused, staging's (its own) shown
        page = functools.partial(client.get, "/", follow_redirects=True)
        assert page().status_code == 200, "naming no environment, the session's own"
        client.cookies.set("mainspring_env", "production")  # the dashboard's switcher
        assert page().status_code == 403
        client.cookies.set("mainspring_env", "staging")
        assert page().status_code == 200
