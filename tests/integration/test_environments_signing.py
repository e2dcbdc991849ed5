"""An environment's own signing key (`--env-signing-key`, here MAINSPRING_ENV_SIGNING_KEYS)
through the official Python SDK in cloud mode: the staging app holds staging's key only; its
sync, its runs (the server signs its calls to the app with that key, the SDK checks them) and
its API calls work; with production's key it is refused, and staging's key opens nothing of
production."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .environments_kit import until
from .harness import AppProcess, free_port
from .production import EVENT_KEY, CloudApi, CloudServer, bearer, new_signing_key


def _cloud_app(server: CloudServer, workdir: Path, signing_key: str, name: str) -> AppProcess:
    app = AppProcess(
        "env_app",
        port=free_port(),
        server_url=server.url,
        log_dir=workdir,
        name=name,
        extra_env={
            "INNGEST_DEV": "0",
            "INNGEST_SIGNING_KEY": signing_key,
            "INNGEST_EVENT_KEY": EVENT_KEY,
            "INNGEST_ENV": "staging",
        },
    )
    app.start()
    return app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CloudServer, str]]:
    workdir = tmp_path_factory.mktemp("environments-signing")
    staging_key = new_signing_key().replace("-prod-", "-staging-")
    server = CloudServer(
        signing_key=new_signing_key(),
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        extra_args=["--env", "staging"],
        extra_env={"MAINSPRING_ENV_SIGNING_KEYS": f"staging={staging_key}"},
    )
    server.start()
    try:
        yield server, staging_key
    finally:
        server.stop()
        server.release_db()


def test_the_staging_app_runs_on_its_own_key(
    server: tuple[CloudServer, str], tmp_path: Path
) -> None:
    cloud, staging_key = server
    app = _cloud_app(cloud, tmp_path, staging_key, "app-staging")
    try:
        assert httpx.put(app.url, timeout=15.0).status_code == 200  # its sync, under its key
        staging = CloudApi(cloud)
        staging.http.params = staging.http.params.set("env", "staging")
        until(
            lambda: "envs-echo" in {f["function_id"] for f in staging.data("/v1/functions")},
            timeout=20,
            what="staging synced",
        )
        key = staging.http.post("/v1/admin/event-keys", json={"name": "stg", "env": "staging"})
        assert key.status_code == 201, key.text
        resp = httpx.post(
            f"{cloud.url}/e/{key.json()['data']['key']}",
            json={"name": "env/echo", "data": {"n": 5}},
        )
        assert resp.status_code == 200, resp.text
        run = staging.run_for_event(resp.json()["ids"][0])
        # the server signed its calls with staging's key: the SDK took them
        assert staging.wait_for_run_status(str(run["run_id"]))["output"] == {
            "env": "staging",
            "n": 5,
        }
    finally:
        app.stop()

    # staging's key is an admin credential in staging only
    auth = bearer(staging_key)
    own = httpx.get(f"{cloud.url}/v1/runs", params={"env": "staging"}, headers=auth)
    assert own.status_code == 200, own.text
    other = httpx.get(f"{cloud.url}/v1/runs", params={"env": "production"}, headers=auth)
    assert other.status_code in (401, 403), other.text


def test_a_staging_app_with_production_key_is_refused(
    server: tuple[CloudServer, str], tmp_path: Path
) -> None:
    cloud, _ = server
    app = _cloud_app(cloud, tmp_path, cloud.signing_key, "app-wrong-key")
    try:
        httpx.put(app.url, timeout=15.0)
        until(
            lambda: "a valid signing key bearer token is required" in app.log_path.read_text(),
            timeout=10,
            what="the SDK told that its sync was refused",
        )
        refused = httpx.post(
            f"{cloud.url}/fn/register",
            json={},
            headers={**bearer(cloud.signing_key), "X-Inngest-Env": "staging"},
        )
        assert refused.status_code == 401, refused.text
    finally:
        app.stop()
