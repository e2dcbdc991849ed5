"""Harness for the TypeScript SDK suite: the Node app process and a server + app stack.

Builds on tests/integration/harness.py (server process, API client, side-effect log); only the
app process differs: `node app/server.js` instead of uvicorn.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from integration.harness import (
    SERVE_PATH,
    Api,
    AppProcess,
    Cluster,
    ServerProcess,
    SideEffects,
    Stack,
    free_port,
    postgres_cluster,
    wait_until,
)

TS_DIR = Path(__file__).resolve().parent
NODE_APP_DIR = TS_DIR / "app"
NODE_APP_ENTRY = NODE_APP_DIR / "server.js"
MIN_NODE_MAJOR = 20

# Function ids declared in app/server.js; slugs are `<app id>-<fn id>`.
FUNCTION_IDS = (
    "chain",
    "sleeper",
    "waiter",
    "child",
    "invoker",
    "invoke-not-found",
    "checkpoint-then-fail",
    "parallel",
    "fails",
    "fails-failure",  # the onFailure handler, synced as its own function
    "fatal",
    "flaky",
    "cancellable",
    "recovers",
    "returns-nothing",
    "fanout",
    "fanout-child",
    "cron-tick",
    "fetcher",  # app/gateway.js
    "fetch-pair",
    "ai",
    "signal-waiter",
    "signal-sender",
    "realtime-publisher",
)
CRON_EXPR = "* * * * *"
# The second client of the app (app/observability.js: run metadata, userland traces, defers),
# app id "ts-obs" (or "ts-obs-nocp"), served at its own path.
OBS_SERVE_PATH = "/api/inngest-obs"
OBS_FUNCTION_IDS = ("metadata", "traced", "deferred-note", "defers")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "<no log>"


class NodeAppProcess(AppProcess):
    """`node app/server.js`: the TS SDK app, with the same env contract as the Python apps."""

    def __init__(
        self,
        *,
        port: int,
        server_url: str,
        log_dir: Path,
        side_effect_log: Path,
        checkpointing: bool,
        extra_env: Mapping[str, str] | None = None,
        name: str = "node-app",
    ) -> None:
        env = {
            "PORT": str(port),
            "CHECKPOINTING": "1" if checkpointing else "0",
            "NODE_ENV": "test",
            **(extra_env or {}),
        }
        super().__init__(
            "server.js",
            port=port,
            server_url=server_url,
            log_dir=log_dir,
            side_effect_log=side_effect_log,
            app_dir=NODE_APP_DIR,
            extra_env=env,
            name=name,
        )

    def start(self, *, timeout: float = 30.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "app already running"
        node = shutil.which("node")
        assert node is not None, "node disappeared from PATH"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [node, str(NODE_APP_ENTRY)],
                cwd=self.cwd,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

        def probe() -> bool | None:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"node app exited with code {self.proc.returncode}\n{_tail(self.log_path)}"
                )
            try:
                resp = httpx.get(self.url, timeout=1.0)
            except httpx.TransportError:
                return None
            return True if resp.status_code in (200, 401) else None

        wait_until(
            probe,
            timeout=timeout,
            what=f"node app to answer GET {SERVE_PATH}",
            on_timeout=lambda: _tail(self.log_path),
        )

    def log_tail(self, lines: int = 40) -> str:
        return f"--- node app log (tail) ---\n{_tail(self.log_path, lines)}"


@dataclass
class TsStack:
    """A server + the Node app in one checkpointing mode."""

    stack: Stack
    checkpointing: bool
    app_id: str
    synced_at: float  # time.time() when every function was seen synced
    started_mono: float = field(default_factory=time.monotonic)

    def slug(self, fn_id: str) -> str:
        return f"{self.app_id}-{fn_id}"

    @property
    def api(self) -> Api:
        return self.stack.api

    @property
    def sidefx(self) -> SideEffects:
        return self.stack.sidefx

    def logs(self) -> str:
        app = self.stack.app
        app_log = app.log_tail() if isinstance(app, NodeAppProcess) else ""
        return f"{self.stack.server.log_tail()}\n{app_log}"


@contextlib.contextmanager
def running_ts_stack(
    workdir: Path,
    *,
    checkpointing: bool,
    server_args: Sequence[str] = (),
    serve_path: str = SERVE_PATH,
    app_name: str = "ts-app",
    function_ids: tuple[str, ...] = FUNCTION_IDS,
) -> Iterator[TsStack]:
    """Start the Node app and a server on fresh ports, wait for the sync, yield, tear down.
    The server syncs one client of the app: the main one, or the one at `serve_path`."""
    server_port, app_port = free_port(), free_port()
    while app_port == server_port:
        app_port = free_port()
    sidefx_path = workdir / "side_effects.jsonl"
    app_id = app_name if checkpointing else f"{app_name}-nocp"
    server = ServerProcess(
        port=server_port,
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        app_urls=[f"http://127.0.0.1:{app_port}{serve_path}"],
        backoff_base=0.2,
        extra_args=server_args,
    )
    app = NodeAppProcess(
        port=app_port,
        server_url=server.url,
        log_dir=workdir,
        side_effect_log=sidefx_path,
        checkpointing=checkpointing,
    )
    stack = Stack(
        server=server,
        app=app,
        api=Api(server),
        sidefx=SideEffects(sidefx_path),
        workdir=workdir,
    )
    try:
        app.start()
        server.start()
        stack.api.wait_for_sync(f"{app_id}-{fn}" for fn in function_ids)
        yield TsStack(
            stack=stack, checkpointing=checkpointing, app_id=app_id, synced_at=time.time()
        )
    finally:
        stack.api.close()
        stack.server.stop()
        stack.app.stop()


@contextlib.contextmanager
def running_ts_cluster(
    workdir: Path, processes: int, *, checkpointing: bool, app_server: int
) -> Iterator[Cluster]:
    """`processes` servers on one fresh PostgreSQL database and the Node app, whose API origin
    (where it POSTs checkpoints) is server `app_server`."""

    def node_app(port: int, server_url: str, sidefx: SideEffects) -> NodeAppProcess:
        return NodeAppProcess(
            port=port,
            server_url=server_url,
            log_dir=workdir,
            side_effect_log=sidefx.path,
            checkpointing=checkpointing,
        )

    app_id = "ts-app" if checkpointing else "ts-app-nocp"
    slugs = [f"{app_id}-{fn}" for fn in FUNCTION_IDS]
    with postgres_cluster(
        workdir, "", slugs, processes, app_factory=node_app, app_server=app_server
    ) as cluster:
        yield cluster
