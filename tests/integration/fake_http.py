"""A fake external HTTP service for server-side requests (`step.fetch`, `step.ai.infer`): a
threaded HTTP server on loopback whose answers a test scripts per path, and which records every
request it sees. It stands in for an outside API (a model provider), never for Mainspring.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None  # bytes as they are, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering (a slow service)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        if isinstance(self.body, bytes):
            return self.body, self.headers
        headers = {"Content-Type": "application/json", **self.headers}
        return json.dumps(self.body).encode(), headers


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


class FakeHttp:
    """`script(path, *answers)`: the answers to give, in order (the last one repeats); an
    unscripted path gets 404. `seen(path)` lists the requests a path received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Answer]] = {}
        self._seen: list[Seen] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                answer = fake._record(Seen(self.command, self.path, dict(self.headers), body), path)
                raw, headers = answer.encoded()
                time.sleep(answer.delay_s)
                self.send_response(answer.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def new_path(self, prefix: str = "") -> str:
        """A path no other test uses."""
        return f"/{prefix}{uuid.uuid4().hex}"

    def script(self, path: str, *answers: Answer) -> str:
        """Script `path`; returns its URL."""
        with self._lock:
            self._scripts[path] = list(answers)
        return self.origin + path

    def seen(self, prefix: str) -> list[Seen]:
        with self._lock:
            return [s for s in self._seen if s.path.startswith(prefix)]

    def _record(self, seen: Seen, path: str) -> Answer:
        with self._lock:
            self._seen.append(seen)
            answers = self._scripts.get(path)
            if not answers:
                return Answer(404, {"error": "not scripted", "path": path})
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def start(self) -> FakeHttp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def running_fake_http() -> Iterator[FakeHttp]:
    """For a fixture: `yield from running_fake_http()`."""
    fake = FakeHttp().start()
    try:
        yield fake
    finally:
        fake.stop()
