"""Node scripts of the TS suite as subprocesses whose stdout is one JSON line per message:
`app/realtime_subscriber.js` (the TypeScript SDK's own `subscribe`, or an SSE reader with the
SDK's token) and others (`NodeScript`)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

from .ts_harness import NODE_APP_DIR

SCRIPT = NODE_APP_DIR / "realtime_subscriber.js"


def _node_args(script: Path) -> list[str]:
    node = shutil.which("node")
    assert node is not None, "node is required"
    probe = [node, "-e", "process.stdout.write(typeof WebSocket)"]
    out = subprocess.run(probe, capture_output=True, check=False)
    # Node 20 has the WebSocket the SDK needs behind a flag; 22+ has it on by default.
    flag = [] if out.stdout == b"function" else ["--experimental-websocket"]
    return [node, *flag, str(script)]


class NodeScript:
    """`node <script>` with `env`, its stdout read as one JSON object per line."""

    def __init__(self, script: Path, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        variables = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            _node_args(script),
            cwd=NODE_APP_DIR,
            env=variables,
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
        )
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True).start()

    def _pump(self, stream: IO[bytes]) -> None:
        for line in stream:
            if line.strip():
                self._lines.put(json.loads(line))
        self._lines.put(None)

    def next_line(self, timeout: float) -> dict[str, Any] | None:
        """The next line, or None once the script ended or `timeout` passed."""
        return self._next(time.monotonic() + timeout)

    def _next(self, deadline: float) -> dict[str, Any] | None:
        try:
            return self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def messages(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Every line until the script exits (a subscriber: after `count`) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            line = self._next(deadline)
            if line is None:
                break
            assert "error" not in line, f"{line}\n{self.stderr()}"
            found.append(line)
        return found

    def stderr(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self._log.close()


class NodeSubscriber(NodeScript):
    def __init__(
        self,
        server_url: str,
        channel: str,
        *,
        count: int,
        transport: str = "ws",
        topics: tuple[str, ...] = ("tick",),
        log_dir: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        variables = {
            "INNGEST_BASE_URL": server_url,
            "INNGEST_DEV": "1",
            "CHANNEL": channel,
            "TOPICS": ",".join(topics),
            "COUNT": str(count),
            "TRANSPORT": transport,
            **(env or {}),
        }
        log_path = log_dir / f"subscriber-{channel}-{transport}.log"
        super().__init__(SCRIPT, variables, log_path)

    def wait_ready(self, timeout: float = 20.0) -> None:
        line = self._next(time.monotonic() + timeout)
        assert line == {"ready": True}, f"subscriber not ready: {line}\n{self.stderr()}"
