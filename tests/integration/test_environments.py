"""Environments (issue 19 part 1) end to end through the official Python SDK: one server,
the same app deployed twice (production, and `INNGEST_ENV=staging`), plus a branch environment
created by its first sync. Nothing of one environment is visible, runnable or cancellable from
another: runs, events, functions, flow-control keys with scope `env`, and the kill switch
(per environment and global)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mainspring.environments.stores import store_for

from .environments_kit import (
    SLUGS,
    env_api,
    start_env_app,
    started_server,
    synced,
    until,
)
from .harness import (
    Api,
    AppProcess,
    ServerProcess,
    assert_stays,
    db_execute,
    free_port,
)
from .otlp_receiver import http_receiver
from .realtime_clients import SseSubscriber
from .receivers import Webhook

BRANCH = "feature/login-page"


@dataclass
class World:
    server: ServerProcess
    prod: Api
    staging: Api
    apps: dict[str, AppProcess]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("environments")
    server = started_server(workdir, "--env", "staging", "--branch-envs")
    apps: dict[str, AppProcess] = {}
    try:
        apps["production"] = start_env_app(server, workdir, None)
        apps["staging"] = start_env_app(server, workdir, "staging")
        prod, staging = env_api(server, None), env_api(server, "staging")
        for api in (prod, staging):
            until(lambda api=api: set(SLUGS) <= synced(api), timeout=20, what="synced")
        yield World(server, prod, staging, apps)
    finally:
        for app in apps.values():
            app.stop()
        server.stop()
        server.release_db()


def _run_of(api: Api, event: str, data: dict[str, object]) -> str:
    internal = api.send_event(event, data)
    return str(api.run_for_event(internal)["run_id"])


def test_each_environment_runs_its_own_app(world: World) -> None:
    prod_run = _run_of(world.prod, "env/echo", {"n": 1})
    staging_run = _run_of(world.staging, "env/echo", {"n": 2})
    prod = world.prod.wait_for_run_status(prod_run)
    staging = world.staging.wait_for_run_status(staging_run)
    assert prod["output"] == {"env": "production", "n": 1}
    assert staging["output"] == {"env": "staging", "n": 2}

    # neither run nor its event is visible from the other environment
    assert world.prod.get_run(staging_run) is None
    assert world.staging.get_run(prod_run) is None
    prod_events = {event["data"].get("n") for event in world.prod.list_events("env/echo")}
    staging_events = {event["data"].get("n") for event in world.staging.list_events("env/echo")}
    assert 2 not in prod_events and 1 in prod_events
    assert 1 not in staging_events and 2 in staging_events


def test_a_run_cannot_be_cancelled_from_another_environment(world: World) -> None:
    run_id = _run_of(world.staging, "env/limited", {"k": uuid.uuid4().hex, "hold": 3})
    world.staging.wait_for_run_status(run_id, "Running")
    refused = world.prod.http.delete(f"/v1/runs/{run_id}")
    assert refused.status_code == 404, refused.text
    refused = world.prod.http.post(f"/v2/runs/{run_id}/cancel", json={})
    assert refused.status_code == 404, refused.text
    assert world.staging.wait_for_run_status(run_id)["output"] == "staging"
    # nor rerun from there: production has no such run
    rerun = world.prod.http.post(f"/v1/runs/{run_id}/rerun", json={})
    assert rerun.status_code == 404, rerun.text
    # a pause in one environment leaves the same function running in the other
    paused = world.staging.http.post("/v1/functions/envs-echo/pause", json={})
    assert paused.status_code == 200, paused.text
    try:
        free = _run_of(world.prod, "env/echo", {"n": "unpaused"})
        assert world.prod.wait_for_run_status(free)["output"]["n"] == "unpaused"
        assert world.prod.data("/v1/functions/envs-echo/pause")["paused"] is False
    finally:
        world.staging.http.post("/v1/functions/envs-echo/resume", json={})


def test_sdk_sent_events_stay_in_their_environment(world: World) -> None:
    relay = _run_of(world.staging, "env/relay", {})
    assert world.staging.wait_for_run_status(relay)["output"] == "staging"

    def relayed(api: Api) -> list[str]:
        runs = api.list_runs("envs-echo")
        return [run["run_id"] for run in runs if (run.get("output") or {}).get("n") == "relayed"]

    until(lambda: relayed(world.staging), timeout=20, what="the relayed echo in staging")
    assert_stays(lambda: not relayed(world.prod), duration=1.0, what="nothing in production")


def test_concurrency_keys_with_scope_env_are_per_environment(world: World) -> None:
    key = uuid.uuid4().hex
    holding = _run_of(world.prod, "env/limited", {"k": key, "hold": 4})
    world.prod.wait_for_run_status(holding, "Running")
    queued = _run_of(world.prod, "env/limited", {"k": key, "hold": 0})
    elsewhere = _run_of(world.staging, "env/limited", {"k": key, "hold": 0})
    # the same key in staging is another key: it runs while production's is held
    assert world.staging.wait_for_run_status(elsewhere, timeout=3.0)["output"] == "staging"
    assert world.prod.get_run(queued)["status"] != "Completed"  # type: ignore[index]
    assert world.prod.get_run(holding)["status"] == "Running"  # type: ignore[index]
    world.prod.wait_for_run_status(queued, timeout=20)


def test_kill_switch_per_environment_and_global(world: World) -> None:
    on = world.staging.http.post("/v1/kill-switch", json={"reason": "staging incident"})
    assert on.status_code == 200 and on.json()["data"]["active"] is True, on.text
    try:
        assert world.prod.data("/v1/kill-switch")["active"] is False
        held = _run_of(world.staging, "env/echo", {"n": "held"})
        free = _run_of(world.prod, "env/echo", {"n": "free"})
        assert world.prod.wait_for_run_status(free)["output"]["n"] == "free"
        assert world.staging.get_run(held)["status"] != "Completed"  # type: ignore[index]
    finally:
        off = world.staging.http.request("DELETE", "/v1/kill-switch", json={})
        assert off.status_code == 200, off.text
    world.staging.wait_for_run_status(held)

    every = world.prod.http.post(
        "/v1/kill-switch", json={"all_environments": True, "reason": "everything"}
    )
    assert every.status_code == 200, every.text
    try:
        for api in (world.prod, world.staging):
            state = api.data("/v1/kill-switch")
            assert state["active"] is True and state["all_environments"]["active"] is True
        runs = {
            "production": _run_of(world.prod, "env/echo", {"n": "g"}),
            "staging": _run_of(world.staging, "env/echo", {"n": "g"}),
        }
        assert_stays(
            lambda: all(
                api.get_run(runs[env])["status"] != "Completed"  # type: ignore[index]
                for env, api in (("production", world.prod), ("staging", world.staging))
            ),
            duration=1.5,
            what="both environments held",
        )
    finally:
        off = world.prod.http.request("DELETE", "/v1/kill-switch", json={"all_environments": True})
        assert off.status_code == 200, off.text
    world.prod.wait_for_run_status(runs["production"])
    world.staging.wait_for_run_status(runs["staging"])


def test_unknown_environment_is_refused_naming_the_field(world: World) -> None:
    resp = httpx.post(
        f"{world.server.url}/e/test",
        json={"name": "env/echo", "data": {}},
        headers={"X-Inngest-Env": "nowhere"},
    )
    assert resp.status_code == 404, resp.text
    assert resp.json()["field"] == "env" and "nowhere" in resp.json()["error"]
    bad = httpx.get(f"{world.server.url}/v1/runs", params={"env": "../etc"})
    assert bad.status_code == 400 and bad.json()["field"] == "env", bad.text


def test_branch_environment_created_by_first_sync(world: World, tmp_path: Path) -> None:
    branch = env_api(world.server, BRANCH)
    assert httpx.get(f"{world.server.url}/v1/functions", params={"env": BRANCH}).status_code == 404
    app = start_env_app(world.server, tmp_path, BRANCH)
    world.apps[BRANCH] = app
    until(lambda: set(SLUGS) <= synced(branch), timeout=20, what="branch synced")
    listed = {env["name"]: env for env in world.prod.data("/v1/environments")}
    assert listed[BRANCH]["kind"] == "branch" and listed["staging"]["kind"] == "configured"
    run = _run_of(branch, "env/echo", {"n": 3})
    assert branch.wait_for_run_status(run)["output"] == {"env": BRANCH, "n": 3}
    assert world.prod.get_run(run) is None and world.staging.get_run(run) is None


def test_idle_branch_is_archived_and_a_sync_brings_it_back(tmp_path: Path) -> None:
    server = started_server(tmp_path, "--branch-envs", "--branch-env-idle", "2")
    app: AppProcess | None = None
    try:
        app = start_env_app(server, tmp_path, "preview-42")
        branch = env_api(server, "preview-42")
        until(lambda: set(SLUGS) <= synced(branch), timeout=20, what="branch synced")
        run = _run_of(branch, "env/echo", {"n": 1})
        branch.wait_for_run_status(run)
        # held by the switch of all environments, then archived while held
        every = env_api(server, None).http.post("/v1/kill-switch", json={"all_environments": True})
        assert every.status_code == 200, every.text
        assert branch.data("/v1/kill-switch")["requested_by"] == "all environments"

        def archived() -> bool:
            listed = {env["name"]: env for env in env_api(server, None).data("/v1/environments")}
            return listed["preview-42"]["archived_at"] is not None

        until(archived, timeout=15, what="the idle branch archived")
        until(
            lambda: branch.http.get(f"/v1/runs/{run}").status_code == 404,
            timeout=5,
            what="the archived branch's engine stopped",
        )
        gone = branch.http.get(f"/v1/runs/{run}")
        assert gone.json().get("field") == "env" and "archived" in gone.json()["error"], gone.text
        released = env_api(server, None).http.request(
            "DELETE", "/v1/kill-switch", json={"all_environments": True}
        )
        assert (
            released.status_code == 200
            and "preview-42" not in released.json()["data"]["environments"]
        ), released.text

        assert app.sync().status_code == 200  # a new deploy of the branch
        until(lambda: branch.get_run(run) is not None, timeout=20, what="branch back")
        assert branch.get_run(run)["status"] == "Completed"  # type: ignore[index]
        # the global switch's hold, left behind while archived, is released once it is back
        until(
            lambda: branch.data("/v1/kill-switch")["active"] is False,
            timeout=10,
            what="the stale hold released",
        )
    finally:
        if app is not None:
            app.stop()
        server.stop()
        server.release_db()


def test_connect_workers_of_another_environment_are_refused(world: World) -> None:
    # the gateway's one port serves production: a staging worker must not join its apps
    refused = world.staging.http.post("/v0/connect/start", content=b"")
    assert refused.status_code == 400 and refused.json()["field"] == "X-Inngest-Env", refused.text
    assert httpx.post(f"{world.server.url}/v0/connect/start", content=b"").status_code == 200


def test_health_covers_every_environment(world: World) -> None:
    health = httpx.get(f"{world.server.url}/health").json()
    served = set(health["environments"]["served"])
    assert health["status"] == 200 and {"production", "staging"} <= served, health
    assert health["environments"]["problems"] == {}
    assert any(name.startswith("staging/") for name in health["components"]), health
    assert "environments" in health["components"], "the refresh loop is watched"


def test_alerts_and_traces_name_their_environment(tmp_path: Path) -> None:
    hook = Webhook()
    env = {"MAINSPRING_ALERT_WEBHOOK_URL": hook.url, "MAINSPRING_ALERT_INTERVAL": "200ms"}
    with http_receiver() as (otlp_url, received):
        server = started_server(tmp_path, "--env", "staging", "--otel-endpoint", otlp_url, env=env)
        app: AppProcess | None = None
        try:
            staging = env_api(server, "staging")
            app = start_env_app(server, tmp_path, "staging")
            until(lambda: set(SLUGS) <= synced(staging), timeout=20, what="staging synced")
            run = _run_of(staging, "env/echo", {"n": 9})
            staging.wait_for_run_status(run)
            until(
                lambda: (
                    any(span.attributes.get("inngest.run.id") == run for span in received.spans)
                    or any(run in str(span.attributes) for span in received.spans)
                ),
                timeout=20,
                what="the staging run's trace",
            )
            spans = [span for span in received.spans if run in str(span.attributes)]
            assert spans and all(
                span.resource.get("deployment.environment.name") == "staging" for span in spans
            ), spans[:1]

            assert staging.http.post("/v1/alerts/test", json={}).status_code == 200
            assert staging.http.post("/v1/kill-switch", json={"reason": "drill"}).status_code == 200
            until(
                lambda: any(m["rule"] == "kill_switch" for m in hook.received),
                timeout=10,
                what="the kill switch alert",
            )
            by_rule = {message["rule"]: message for message in hook.received}
            assert by_rule["test"]["environment"] == "staging"
            assert by_rule["kill_switch"]["environment"] == "staging"
            assert env_api(server, None).data("/v1/kill-switch")["active"] is False
        finally:
            if app is not None:
                app.stop()
            server.stop()
            server.release_db()
            hook.close()


def test_an_environment_that_cannot_open_leaves_the_others_serving(tmp_path: Path) -> None:
    args = ["--env", "broken", "--env", "staging", "--branch-envs", "--branch-env-idle", "4"]
    server = ServerProcess(
        port=free_port(), db_path=tmp_path / "mainspring.db", log_dir=tmp_path, extra_args=args
    )
    store = store_for(server.db, "broken")
    if store.schema is not None:  # PostgreSQL: its schema holds a migrations table it cannot read
        db_execute(server.db, f'CREATE SCHEMA "{store.schema}"')
        db_execute(server.db, f'CREATE TABLE "{store.schema}".schema_migrations (x INTEGER)')
    else:  # SQLite: a directory where its file should be
        Path(store.url).mkdir()
    server.start()
    try:
        health = httpx.get(f"{server.url}/health").json()
        assert health["status"] == 200, health  # production is fine: not pulled out
        assert "cannot be opened" in str(health["environments"]["problems"]["broken"]), health
        assert env_api(server, "staging").http.get("/v1/runs").status_code == 200
        refused = env_api(server, "broken").http.get("/v1/runs")
        assert refused.status_code == 404 and refused.json()["field"] == "env", refused.text
        if store.schema is not None:  # repaired: the next round opens it
            db_execute(server.db, f'DROP SCHEMA "{store.schema}" CASCADE')
        else:
            Path(store.url).rmdir()
        until(
            lambda: env_api(server, "broken").http.get("/v1/runs").status_code == 200,
            timeout=15,
            what="the repaired environment served",
        )
        assert httpx.get(f"{server.url}/health").json()["environments"]["problems"] == {}
    finally:
        server.stop()
        server.release_db()


def test_branch_environments_are_capped(tmp_path: Path) -> None:
    server = started_server(tmp_path, "--branch-envs", "--max-branch-envs", "1")
    app: AppProcess | None = None
    try:
        app = start_env_app(server, tmp_path, "preview-1")
        body = {"url": "http://127.0.0.1:9/api/inngest", "appName": "x", "functions": []}
        refused = httpx.post(
            f"{server.url}/fn/register", json=body, headers={"X-Inngest-Env": "preview-2"}
        )
        assert refused.status_code == 409 and refused.json()["field"] == "env", refused.text
        names_listed = {env["name"] for env in env_api(server, None).data("/v1/environments")}
        assert "preview-1" in names_listed and "preview-2" not in names_listed
    finally:
        if app is not None:
            app.stop()
        server.stop()
        server.release_db()


def test_a_realtime_token_subscribes_in_the_environment_that_issued_it(world: World) -> None:
    # the SDKs' subscribers (a browser) send the token only, no X-Inngest-Env
    topics = [{"channel": "orders", "name": "updates"}]
    made = world.staging.http.post("/v1/realtime/token", json=topics)
    assert made.status_code == 201, made.text
    subscriber = SseSubscriber(world.server.url, {"token": made.json()["jwt"]})
    try:
        assert subscriber.status == 200
        for api, data in ((world.prod, "production's"), (world.staging, "staging's")):
            published = api.http.post(
                "/v1/realtime/publish", params={"channel": "orders", "topic": "updates"}, json=data
            )
            assert published.status_code == 200, published.text
        events = subscriber.events(1, timeout=10)
        assert [event["data"]["data"] for event in events] == ["staging's"]
        assert_stays(lambda: not subscriber.events(1, timeout=0.2), duration=1.0, what="no more")
    finally:
        subscriber.close()
