"""Benchmark target (b): a minimal hand-written SDK-protocol endpoint that answers instantly.

Run as ``python bench/apps/minimal_endpoint.py --port P --server-url http://127.0.0.1:<port>``
(the Mainspring server's URL).

Raw asyncio (uvloop when available) + httptools HTTP/1.1 with keep-alive; every answer to an SDK
call is a precomputed byte string. It speaks the Python SDK 0.5.19 dialect
(SDK_BEHAVIOUR.md §2-3) for one function ``<app-id>-chain`` (trigger ``bench/chain``) whose three
steps are ``one``, ``two``, ``three``:

* ``PUT <path>``: POSTs the Python-SDK-shaped register payload to ``<server>/fn/register`` itself
  (app URL = Host header + path of the PUT, ``?deployId`` forwarded) and relays the answer.
* ``POST <path>?fnId=…&stepId=…``: reads ``steps`` from the body; answers 206
  ``[{"op":"StepRun","id":sha1(step),…}]`` for the first step not yet memoized
  (``StepPlanned`` when ``ctx.disable_immediate_execution``; the targeted step when
  ``stepId=<hash>``), or 200 ``{"total":25}`` once all three are memoized.
  ``?probe=trust`` → 200 ``null``.
* ``GET <path>``: unauthenticated dev-mode introspection.
* ``GET /bench/wait?phase=P&n=N&secs=S`` / ``GET /bench/stats``: per-run arrival times of the
  first and final call (``time.time()``), see common.py. ``--stats-file`` also writes the stats
  there on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import httptools
import orjson
from common import RunRecorder, parse_query

SDK_VERSION = "0.5.19"
SDK_HEADER = f"inngest-py:v{SDK_VERSION}"
EVENT_NAME = "bench/chain"
STEP_NAMES = ("one", "two", "three")
STEP_DATA: tuple[Any, ...] = (2, 20, {"total": 25})
FINAL_OUTPUT: Any = {"total": 25}
HASHES = tuple(hashlib.sha1(name.encode()).hexdigest() for name in STEP_NAMES)
HASH_INDEX = {h: i for i, h in enumerate(HASHES)}
REASONS = {
    200: "OK",
    206: "Partial Content",
    400: "Bad Request",
    404: "Not Found",
    500: "Internal Server Error",
}
SDK_HEADERS = (
    f"X-Inngest-SDK: {SDK_HEADER}\r\nUser-Agent: {SDK_HEADER}\r\nX-Inngest-Req-Version: 2\r\n"
    "X-Inngest-Framework: fast_api\r\nX-Inngest-Expected-Server-Kind: dev\r\n"
    "X-Inngest-SDK-Handled: true\r\n"
)
RECORDER = RunRecorder()


def http_response(status: int, body: bytes, extra_headers: str = "", sdk: bool = True) -> bytes:
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\n"
        f"Content-Type: application/json\r\n{SDK_HEADERS if sdk else ''}{extra_headers}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _op(op: str, i: int) -> bytes:
    item = {
        "displayName": STEP_NAMES[i],
        "id": HASHES[i],
        "name": STEP_NAMES[i],
        "op": op,
        "opts": None,
        "userland": {"id": STEP_NAMES[i], "index": None},
        "data": STEP_DATA[i] if op == "StepRun" else None,
    }
    return http_response(206, orjson.dumps([item]))


RESP_RUN = tuple(_op("StepRun", i) for i in range(len(STEP_NAMES)))
RESP_PLANNED = tuple(_op("StepPlanned", i) for i in range(len(STEP_NAMES)))
RESP_FINAL = http_response(200, orjson.dumps(FINAL_OUTPUT))
RESP_TRUST = http_response(200, b"null")
RESP_NOT_FOUND = http_response(404, b'{"message":"not found"}', sdk=False)
RESP_BAD_BODY = http_response(
    500, b'{"code":"unknown","message":"invalid request body","name":"ValidationError"}'
)
RESP_NO_STEP = http_response(
    500, b'{"code":"step_unexpected","message":"unknown step","name":"StepUnexpectedError"}'
)
RESP_INTROSPECT = http_response(
    200,
    orjson.dumps(
        {
            "schema_version": "2024-05-24",
            "function_count": 1,
            "has_event_key": False,
            "has_signing_key": False,
            "has_signing_key_fallback": False,
            "mode": "dev",
        }
    ),
)


class Config:
    app_id = "bench-min"
    server_url = "http://127.0.0.1:8288"
    serve_path = "/api/inngest"


def register_payload(app_url: str) -> dict[str, Any]:
    """Exactly what inngest-py 0.5.19 + FastAPI sends for this app (keys as the SDK emits)."""
    fn_id = f"{Config.app_id}-chain"
    return {
        "appname": Config.app_id,
        "capabilities": {"connect": "v1", "in_band_sync": "v1", "trust_probe": "v1"},
        "deploy_type": "ping",
        "framework": "fast_api",
        "functions": [
            {
                "id": fn_id,
                "name": "chain",
                "steps": {
                    "step": {
                        "id": "step",
                        "name": "step",
                        "runtime": {"type": "http", "url": f"{app_url}?fnId={fn_id}&stepId=step"},
                    }
                },
                "triggers": [{"event": EVENT_NAME}],
            }
        ],
        "sdk": f"py:v{SDK_VERSION}",
        "url": app_url,
        "v": "0.1",
    }


def _post_register(url: str, body: bytes, server_kind: str | None) -> tuple[int, bytes]:
    headers = {
        "Content-Type": "application/json",
        "X-Inngest-SDK": SDK_HEADER,
        "User-Agent": SDK_HEADER,
        "X-Inngest-Req-Version": "2",
        "X-Inngest-Framework": "fast_api",
    }
    if server_kind:
        headers["X-Inngest-Expected-Server-Kind"] = server_kind
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())
    except OSError as exc:
        msg = {"code": "registration_failed", "message": str(exc)}
        return 500, orjson.dumps(msg)


async def sync_app(host: str, path: str, query: str, server_kind: str | None) -> bytes:
    """Handle a sync PUT: out-of-band register with the server, relay its answer."""
    if server_kind and server_kind != "dev":
        return http_response(400, b'{"code":"server_kind_mismatch","message":"dev mode"}')
    app_url = f"http://{host}{path}"
    register_url = Config.server_url.rstrip("/") + "/fn/register"
    deploy_id = parse_query(query).get("deployId")
    if deploy_id:
        register_url += f"?deployId={deploy_id}"
    body = orjson.dumps(register_payload(app_url))
    status, answer = await asyncio.to_thread(_post_register, register_url, body, server_kind)
    return http_response(status, answer, "X-Inngest-Sync-Kind: out_of_band\r\n")


def handle_call(query: bytes, body: bytes, arrived: float) -> bytes:
    """Answer one SDK call (the hot path)."""
    if b"probe=trust" in query:
        return RESP_TRUST
    try:
        req = orjson.loads(body)
        steps = req["steps"] or {}
        ctx = req["ctx"]
        run_id = ctx["run_id"]
        data = req["event"].get("data")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return RESP_BAD_BODY
    rec = RECORDER.call(run_id, arrived, data)
    target = None
    if b"stepId=" in query:
        target = parse_query(query.decode()).get("stepId")
    if target and target != "step":
        idx = HASH_INDEX.get(target)
        return RESP_NO_STEP if idx is None else RESP_RUN[idx]
    for i, h in enumerate(HASHES):
        if h not in steps:
            return RESP_PLANNED[i] if ctx.get("disable_immediate_execution") else RESP_RUN[i]
    RECORDER.final(rec, arrived)
    return RESP_FINAL


class HttpProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, parsed with httptools callbacks."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []
        self.host = ""
        self.server_kind: str | None = None
        self.arrived = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(http_response(400, b'{"message":"bad request"}', sdk=False), False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.arrived = time.time()
        self.url = b""
        self.body = []
        self.host = ""
        self.server_kind = None

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        lname = name.lower()
        if lname == b"host":
            self.host = value.decode("latin-1")
        elif lname == b"x-inngest-server-kind":
            self.server_kind = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        keep_alive = bool(self.parser.should_keep_alive())
        path_b, _, query = self.url.partition(b"?")
        path = path_b.decode("latin-1")
        if method == b"POST" and path != "/bench/wait":
            self._write(handle_call(query, b"".join(self.body), self.arrived), keep_alive)
        elif method == b"GET":
            self._get(path, query.decode("latin-1"), keep_alive)
        elif method == b"PUT":
            coro = sync_app(self.host, path, query.decode("latin-1"), self.server_kind)
            self._later(coro, keep_alive)
        else:
            self._write(RESP_NOT_FOUND, keep_alive)

    def _get(self, path: str, query: str, keep_alive: bool) -> None:
        if path == "/bench/wait":
            self._later(_wait(parse_query(query)), keep_alive)
        elif path == "/bench/stats":
            self._write(http_response(200, orjson.dumps(RECORDER.stats()), sdk=False), keep_alive)
        elif path == Config.serve_path:
            self._write(RESP_INTROSPECT, keep_alive)
        else:
            self._write(RESP_NOT_FOUND, keep_alive)

    def _later(self, coro: Any, keep_alive: bool) -> None:
        task = asyncio.ensure_future(coro)
        TASKS.add(task)

        def done(t: asyncio.Future[bytes]) -> None:
            TASKS.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is not None:
                err = orjson.dumps({"message": repr(exc)})
                self._write(http_response(500, err, sdk=False), False)
            else:
                self._write(t.result(), keep_alive)

        task.add_done_callback(done)

    def _write(self, data: bytes, keep_alive: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        if not keep_alive:
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


TASKS: set[asyncio.Future[bytes]] = set()


async def _wait(params: dict[str, str]) -> bytes:
    phase = params.get("phase", "")
    n = int(params.get("n", "1"))
    secs = min(float(params.get("secs", "60")), 600.0)
    answer = await RECORDER.wait(phase, n, secs)
    return http_response(200, orjson.dumps(answer), sdk=False)


async def serve(
    host: str,
    port: int,
    protocol: Callable[[], asyncio.Protocol] = HttpProtocol,
    label: str = "minimal endpoint",
) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, host, port, backlog=1024, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"{label} listening on http://{host}:{port}{Config.serve_path}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="minimal Inngest SDK-protocol endpoint")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-id", default="bench-min")
    parser.add_argument(
        "--server-url", default=os.environ.get("INNGEST_BASE_URL", "http://127.0.0.1:8288")
    )
    parser.add_argument("--serve-path", default="/api/inngest")
    parser.add_argument("--stats-file", default=None)
    parser.add_argument("--no-uvloop", action="store_true")
    args = parser.parse_args()
    Config.app_id = args.app_id
    Config.server_url = args.server_url
    Config.serve_path = args.serve_path
    coro = serve(args.host, args.port)
    try:
        if args.no_uvloop:
            raise ImportError
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)
    if args.stats_file:
        with open(args.stats_file, "wb") as fh:
            fh.write(orjson.dumps(RECORDER.stats()))


if __name__ == "__main__":
    main()
