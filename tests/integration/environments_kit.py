"""What the environment tests share: a server with environments on, the test app
(`apps/env_app.py`) deployed to one environment by `INNGEST_ENV`, an API client bound to one
environment, and waiting on a condition that is true or false."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from .harness import Api, AppProcess, ServerProcess, free_port, wait_until

SLUGS = ("envs-echo", "envs-limited", "envs-relay")


def until(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    """`wait_until` for a condition that is true or false (it waits on None only)."""
    wait_until(lambda: True if condition() else None, timeout=timeout, what=what)


def env_api(server: ServerProcess, env: str | None) -> Api:
    """The API client of `server` in `env` (`?env=` on every request; None: no environment
    named)."""
    api = Api(server)
    if env is not None:
        api.http = httpx.Client(base_url=server.url, timeout=15.0, params={"env": env})
    return api


def synced(api: Api) -> set[str]:
    return {fn["function_id"] for fn in api.data("/v1/functions")}


def started_server(workdir: Path, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
    server = ServerProcess(
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        extra_args=args,
        extra_env=env,
    )
    server.start()
    return server


def start_env_app(server: ServerProcess, workdir: Path, env: str | None) -> AppProcess:
    """The test app deployed to `env` (None: production) and synced by a deploy hook's PUT:
    the SDK registers with X-Inngest-Env from INNGEST_ENV."""
    name = (env or "production").replace("/", "-")
    app = AppProcess(
        "env_app",
        port=free_port(),
        server_url=server.url,
        log_dir=workdir,
        name=f"app-{name}",
        extra_env={"INNGEST_ENV": env} if env else {},
    )
    app.start()
    resp = app.sync()
    assert resp.status_code == 200, resp.text
    return app
