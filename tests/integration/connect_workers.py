"""Connect workers for the integration suite: `apps/connect_worker.py` processes (official
Python SDK, `inngest.connect`) that dial in to a server instead of serving HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .harness import APPS_DIR, Api, _clean_env, _tail, wait_until


class ConnectWorker:
    """One worker process; `command` defaults to the Python SDK worker (argv: instance id)."""

    def __init__(
        self,
        instance: str,
        *,
        server_url: str,
        log_dir: Path,
        sidefx: Path,
        command: Sequence[str] = (),
        cwd: Path = APPS_DIR,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.extra_env = dict(extra_env or {})
        self.instance = instance
        self.command = list(command) or [sys.executable, str(APPS_DIR / "connect_worker.py")]
        self.cwd = cwd
        self.server_url = server_url
        self.log_path = log_dir / f"{instance}.log"
        self.sidefx = sidefx
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        env = _clean_env(
            {
                "INNGEST_DEV": "1",
                "INNGEST_BASE_URL": self.server_url,
                "SIDE_EFFECT_LOG": str(self.sidefx),
                "TZ": "UTC",
                "INSTANCE_ID": self.instance,
                **self.extra_env,
            }
        )
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.command, self.instance],
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def start(self, api: Api, *, timeout: float = 30.0) -> None:
        self.spawn()
        self.wait_joined(api, timeout=timeout)

    def wait_joined(self, api: Api, *, timeout: float = 30.0) -> None:
        wait_until(
            lambda: self.instance in connected(api) or None,
            timeout=timeout,
            what=f"connect worker {self.instance} to join",
            on_timeout=lambda: _tail(self.log_path),
        )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM without waiting (stop several at once, then `stop` each)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def connected(api: Api) -> set[str]:
    """Instance ids of the workers connected to the server."""
    return {str(worker["instance_id"]) for worker in api.data("/v1/connect/workers")}
