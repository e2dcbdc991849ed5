"""Production-mode harness: `mainspring start` with keys, and SDK apps in cloud mode.

Builds on harness.py; differences: the server command is `start` with a signing key and event
keys, the API client sends the signing key as an admin bearer token, sync progress is read from
`/health` (the dev-only `/dev` answers 404 in production), and apps get INNGEST_DEV=0 and keys.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from inngest._internal import transforms

from .harness import (
    SERVE_PATH,
    Api,
    AppProcess,
    ServerProcess,
    SideEffects,
    Stack,
    free_port,
    wait_until,
)

EVENT_KEY = "test"  # what Api.send_events uses by default


def new_signing_key() -> str:
    return f"signkey-prod-{secrets.token_hex(32)}"


def bearer(key: str) -> dict[str, str]:
    """The header the Python SDK sends (hash of the key, no prefix)."""
    return {"Authorization": f"Bearer {transforms.hash_signing_key(key)}"}


class CloudServer(ServerProcess):
    """`python -m mainspring start` with explicit keys (flags, so restarts may change them)."""

    def __init__(
        self,
        *,
        signing_key: str,
        fallback: str | None = None,
        event_keys: Sequence[str] = (EVENT_KEY,),
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.signing_key = signing_key
        self.fallback = fallback
        self.event_keys = list(event_keys)

    def command(self) -> list[str]:
        cmd = super().command()
        cmd[cmd.index("dev")] = "start"
        cmd.remove("--no-discovery")
        return cmd

    def server_env(self) -> dict[str, str]:
        """Keys through the environment, as operators should pass them (INNGEST_* names)."""
        env = {
            "INNGEST_SIGNING_KEY": self.signing_key,
            "INNGEST_EVENT_KEY": " ".join(self.event_keys),
        }
        if self.fallback:
            env["INNGEST_SIGNING_KEY_FALLBACK"] = self.fallback
        return env


class CloudApi(Api):
    """The API client with the signing key as its (admin) bearer token."""

    def __init__(self, server: CloudServer) -> None:
        self.cloud = server
        super().__init__(server)
        self.reset()

    def reset(self) -> None:
        self.http.close()
        self.http = httpx.Client(
            base_url=self.server.url,
            timeout=15.0,
            headers={"Authorization": f"Bearer {self.cloud.signing_key}"},
        )

    def function_count(self) -> int:
        return int(httpx.get(f"{self.server.url}/health", timeout=5).json()["functions"])


def cloud_env(signing_key: str | None, fallback: str | None = None) -> dict[str, str]:
    env = {"INNGEST_DEV": "0", "INNGEST_EVENT_KEY": EVENT_KEY}
    if signing_key:
        env["INNGEST_SIGNING_KEY"] = signing_key
    if fallback:
        env["INNGEST_SIGNING_KEY_FALLBACK"] = fallback
    return env


@dataclass
class CloudStack:
    server: CloudServer
    app: AppProcess
    api: CloudApi
    sidefx: SideEffects
    workdir: Path

    def as_stack(self) -> Stack:
        return Stack(self.server, self.app, self.api, self.sidefx, self.workdir)

    def wait_for_functions(self, count: int, *, timeout: float = 30.0) -> None:
        wait_until(
            lambda: True if self.api.function_count() >= count else None,
            timeout=timeout,
            what=f"{count} functions synced",
            on_timeout=lambda: f"{self.server.log_tail()}\n{self.app.log_path.read_text()[-3000:]}",
        )


@contextlib.contextmanager
def running_cloud_stack(
    workdir: Path,
    app_module: str,
    *,
    functions: int,
    signing_key: str,
    app_key: str | None = None,
    app_fallback: str | None = None,
    server_fallback: str | None = None,
    server_args: Sequence[str] = (),
    app_factory: Callable[..., AppProcess] = AppProcess,
    wait: bool = True,
) -> Iterator[CloudStack]:
    server_port, app_port = free_port(), free_port()
    while app_port == server_port:
        app_port = free_port()
    sidefx_path = workdir / "side_effects.jsonl"
    server = CloudServer(
        signing_key=signing_key,
        fallback=server_fallback,
        port=server_port,
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        app_urls=[f"http://127.0.0.1:{app_port}{SERVE_PATH}"],
        backoff_base=0.2,
        poll_interval=1.0,
        extra_args=list(server_args),
    )
    app = app_factory(
        app_module,
        port=app_port,
        server_url=server.url,
        log_dir=workdir,
        side_effect_log=sidefx_path,
        extra_env=cloud_env(app_key or signing_key, app_fallback),
    )
    stack = CloudStack(server, app, CloudApi(server), SideEffects(sidefx_path), workdir)
    try:
        app.start()
        server.start()
        if wait:
            stack.wait_for_functions(functions)
        yield stack
    finally:
        stack.api.close()
        stack.server.stop()
        stack.app.stop()
        stack.server.release_db()


@contextlib.contextmanager
def running_cloud_server(workdir: Path, *, extra_args: Sequence[str] = ()) -> Iterator[CloudServer]:
    """A `mainspring start` server with a fresh signing key and no app, stopped afterwards."""
    server = CloudServer(
        signing_key=new_signing_key(),
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        extra_args=list(extra_args),
    )
    with server.serving():
        yield server
