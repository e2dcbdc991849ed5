"""The Next.js example (examples/nextjs) as tests run it: dependencies, `next build`, `next start`.

The app is the one a user runs from the example's README; only ports, the Mainspring URL and the
snapshot directory come from the test. Without node and npm the tests skip, or fail under CI=true.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from integration.harness import REPO_ROOT, SERVE_PATH, AppProcess, in_ci, wait_until

from .node_deps import ensure_deps, require_node

EXAMPLE_DIR = REPO_ROOT / "examples" / "nextjs"
NEXT_BIN = EXAMPLE_DIR / "node_modules" / "next" / "dist" / "bin" / "next"
MIN_NODE = (20, 9)  # next 16's engines field
BUILD_TIMEOUT_S = 300


skipped_because: str | None = None  # shown in a banner at the end of the session (conftest)


def skip_or_fail(reason: str) -> None:
    global skipped_because
    skipped_because = reason
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the Next.js example must be tested)", pytrace=False)
    pytest.skip(f"SKIPPED: {reason}")


def next_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What `next build` and `next start` run with: no telemetry, nothing of ours inherited."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INNGEST_", "MAINSPRING_", "NEXT_", "__NEXT"))
    }
    env["NEXT_TELEMETRY_DISABLED"] = "1"
    env.update(extra or {})
    return env


def install_and_build() -> str:
    """node_modules from the lockfile when missing or stale (as `make ts-deps`), then
    `next build`; returns the node executable."""
    node = require_node(MIN_NODE, "examples/nextjs", skip_or_fail)
    ensure_deps(EXAMPLE_DIR, NEXT_BIN, EXAMPLE_DIR / "node_modules" / "inngest" / "package.json")
    build = subprocess.run(
        [node, str(NEXT_BIN), "build"],
        cwd=EXAMPLE_DIR,
        env=next_env(),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert build.returncode == 0, f"next build failed:\n{build.stdout}\n{build.stderr}"
    return node


class NextStartProcess(AppProcess):
    """`next start` of the built example on a free port, with the README's env contract."""

    def __init__(
        self,
        *,
        node: str,
        port: int,
        server_url: str,
        log_dir: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            "next",
            port=port,
            server_url=server_url,
            log_dir=log_dir,
            app_dir=EXAMPLE_DIR,
            extra_env=extra_env,
            name="nextjs",
        )
        self.node = node

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60.0) -> None:
        env = next_env(
            {
                "INNGEST_DEV": "1",
                "INNGEST_BASE_URL": self.server_url,
                "APP_URL": self.base_url,
                "PORT": str(self.port),
                **self.extra_env,
            }
        )
        cmd = [self.node, str(NEXT_BIN), "start", "-H", "127.0.0.1", "-p", str(self.port)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=EXAMPLE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

        def probe() -> bool | None:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"next start exited {self.proc.returncode}\n{self.log_tail()}")
            try:
                return True if httpx.get(self.url, timeout=1.0).status_code == 200 else None
            except httpx.TransportError:
                return None

        what = f"next start to answer {SERVE_PATH}"
        wait_until(probe, timeout=timeout, what=what, on_timeout=self.log_tail)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "<no log>"
        return "--- next start log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])
