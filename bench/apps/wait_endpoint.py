"""Benchmark app for bench_waits.py: a minimal SDK-protocol endpoint whose one function waits.

Run as ``python bench/apps/wait_endpoint.py --port P --server-url http://127.0.0.1:<port>``.

It reuses minimal_endpoint.py's HTTP machinery (raw asyncio + httptools, keep-alive, Python
SDK 0.5.19 headers) and serves one function ``<app-id>-waiter`` (trigger ``bench/wait.start``):

* a call whose ``steps`` lack sha1("w") → 206 ``[{"op":"WaitForEvent","id":sha1("w"),
  "name":"bench/reply","displayName":"w","opts":{"if":"event.data.key == async.data.key",
  "timeout":"1h"},"data":null}]`` (the same precomputed bytes for every run);
* a call whose ``steps`` hold sha1("w") → 200 with that memo (the matching event, or null on
  timeout) as the run's output.

With ``--signals`` (bench_signals.py) the waiter waits for a signal instead: its first call is
answered ``206 [{"op":"WaitForSignal","id":sha1("w"),"name":"sig-<key>","displayName":"w",
"opts":{"signal":"sig-<key>","timeout":"1h","conflict":"fail"}}]`` (one name per run), and a
final call's memo is checked against that name.

And, for comparison, ``<app-id>-oneshot`` (trigger ``bench/oneshot``) whose first call is
answered 200 ``{"ok":true}`` at once (counted in ``oneshot``).

Bookkeeping for the driver (all in memory, single event loop):
``GET /bench/wait?what=waiting|final&n=N&secs=S`` long-polls until N runs were told to wait /
had their final call; ``GET /bench/counts`` gives the counters; ``GET /bench/runs`` maps each
run's ``event.data.key`` to its run id. A final call whose memo's ``data.key`` differs from the
run's own key is counted in ``mismatched`` (a wait resumed by the wrong event).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
from typing import Any

import orjson
from common import parse_query
from minimal_endpoint import (
    RESP_BAD_BODY,
    RESP_NOT_FOUND,
    RESP_TRUST,
    SDK_VERSION,
    HttpProtocol,
    _post_register,
    http_response,
    serve,
)

START_EVENT = "bench/wait.start"
ONESHOT_EVENT = "bench/oneshot"
REPLY_EVENT = "bench/reply"
WAIT_ID = hashlib.sha1(b"w").hexdigest()
WAIT_OP = [
    {
        "op": "WaitForEvent",
        "id": WAIT_ID,
        "name": REPLY_EVENT,
        "displayName": "w",
        "opts": {"if": "event.data.key == async.data.key", "timeout": "1h"},
        "data": None,
    }
]
RESP_WAIT = http_response(206, orjson.dumps(WAIT_OP))
RESP_ONESHOT = http_response(200, b'{"ok":true}')


class Config:
    app_id = "bench-wait"
    signals = False  # --signals: the waiter waits for `sig-<key>` instead of an event
    server_url = "http://127.0.0.1:8288"
    serve_path = "/api/inngest"


class Book:
    """Counters and per-run records; the driver reads them over HTTP."""

    def __init__(self) -> None:
        self.calls = 0
        self.key_by_run: dict[str, str] = {}
        self.run_by_key: dict[str, str] = {}
        self.final_runs: set[str] = set()
        self.first_wait_at: dict[str, float] = {}
        self.final_at: dict[str, float] = {}
        self.dup_final = 0
        self.mismatched = 0
        self.timed_out = 0
        self.wait_replies = 0
        self.oneshot = 0
        self._waiters: list[tuple[str, int, asyncio.Future[None]]] = []

    def counts(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "waiting": len(self.first_wait_at),
            "wait_replies": self.wait_replies,
            "final": len(self.final_runs),
            "dup_final": self.dup_final,
            "mismatched": self.mismatched,
            "timed_out": self.timed_out,
            "oneshot": self.oneshot,
        }

    def _notify(self) -> None:
        if not self._waiters:
            return
        counts = self.counts()
        keep = []
        for what, n, fut in self._waiters:
            if fut.done():
                continue
            if counts.get(what, 0) >= n:
                fut.set_result(None)
            else:
                keep.append((what, n, fut))
        self._waiters = keep

    async def wait(self, what: str, n: int, secs: float) -> dict[str, Any]:
        if self.counts().get(what, 0) < n:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append((what, n, fut))
            try:
                await asyncio.wait_for(fut, secs)
            except TimeoutError:
                pass
        counts: dict[str, Any] = dict(self.counts())
        counts["done"] = counts.get(what, 0) >= n
        return counts


BOOK = Book()


def handle_call(query: bytes, body: bytes, arrived: float) -> bytes:
    if b"probe=trust" in query:
        return RESP_TRUST
    if b"-oneshot" in query:
        BOOK.oneshot += 1
        BOOK._notify()
        return RESP_ONESHOT
    try:
        req = orjson.loads(body)
        steps = req["steps"] or {}
        run_id = req["ctx"]["run_id"]
        key = str((req["event"].get("data") or {}).get("key"))
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return RESP_BAD_BODY
    BOOK.calls += 1
    if run_id not in BOOK.key_by_run:
        BOOK.key_by_run[run_id] = key
        BOOK.run_by_key[key] = run_id
    if WAIT_ID not in steps:
        BOOK.wait_replies += 1
        BOOK.first_wait_at.setdefault(run_id, arrived)
        BOOK._notify()
        return signal_wait(key) if Config.signals else RESP_WAIT
    memo = steps[WAIT_ID]
    if run_id in BOOK.final_runs:
        BOOK.dup_final += 1
    else:
        BOOK.final_runs.add(run_id)
        BOOK.final_at[run_id] = arrived
        if memo is None:
            BOOK.timed_out += 1
        elif not resumed_by_own(memo, key):
            BOOK.mismatched += 1
        BOOK._notify()
    return http_response(200, orjson.dumps(memo))


def signal_wait(key: str) -> bytes:
    signal = f"sig-{key}"
    opts = {"signal": signal, "timeout": "1h", "conflict": "fail"}
    op = {"op": "WaitForSignal", "id": WAIT_ID, "name": signal, "displayName": "w", "opts": opts}
    return http_response(206, orjson.dumps([op]))


def resumed_by_own(memo: Any, key: str) -> bool:
    """The run's own event (`data.key`), or its own signal (`{data: {signal: sig-<key>}}`)."""
    if not isinstance(memo, dict):
        return False
    data = memo.get("data") or {}
    return data.get("signal") == f"sig-{key}" if Config.signals else data.get("key") == key


def function_config(app_url: str, name: str, event: str) -> dict[str, Any]:
    fn_id = f"{Config.app_id}-{name}"
    return {
        "id": fn_id,
        "name": name,
        "steps": {
            "step": {
                "id": "step",
                "name": "step",
                "runtime": {"type": "http", "url": f"{app_url}?fnId={fn_id}&stepId=step"},
            }
        },
        "triggers": [{"event": event}],
    }


def register_payload(app_url: str) -> dict[str, Any]:
    return {
        "appname": Config.app_id,
        "capabilities": {"connect": "v1", "in_band_sync": "v1", "trust_probe": "v1"},
        "deploy_type": "ping",
        "framework": "fast_api",
        "functions": [
            function_config(app_url, "waiter", START_EVENT),
            function_config(app_url, "oneshot", ONESHOT_EVENT),
        ],
        "sdk": f"py:v{SDK_VERSION}",
        "url": app_url,
        "v": "0.1",
    }


async def sync_app(host: str, path: str, query: str, server_kind: str | None) -> bytes:
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


async def _wait(params: dict[str, str]) -> bytes:
    what = params.get("what", "final")
    n = int(params.get("n", "1"))
    secs = min(float(params.get("secs", "60")), 600.0)
    answer = await BOOK.wait(what, n, secs)
    return http_response(200, orjson.dumps(answer), sdk=False)


class WaitProtocol(HttpProtocol):
    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        keep_alive = bool(self.parser.should_keep_alive())
        path_b, _, query = self.url.partition(b"?")
        path = path_b.decode("latin-1")
        if method == b"POST" and path == Config.serve_path:
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
        elif path == "/bench/counts":
            self._write(http_response(200, orjson.dumps(BOOK.counts()), sdk=False), keep_alive)
        elif path == "/bench/runs":
            self._write(http_response(200, orjson.dumps(BOOK.run_by_key), sdk=False), keep_alive)
        elif path == Config.serve_path:
            introspect = {
                "schema_version": "2024-05-24",
                "function_count": 2,
                "has_event_key": False,
                "has_signing_key": False,
                "has_signing_key_fallback": False,
                "mode": "dev",
            }
            self._write(http_response(200, orjson.dumps(introspect)), keep_alive)
        else:
            self._write(RESP_NOT_FOUND, keep_alive)


def main() -> None:
    parser = argparse.ArgumentParser(description="minimal SDK endpoint whose function waits")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-id", default="bench-wait")
    parser.add_argument(
        "--server-url", default=os.environ.get("INNGEST_BASE_URL", "http://127.0.0.1:8288")
    )
    parser.add_argument("--serve-path", default="/api/inngest")
    parser.add_argument("--no-uvloop", action="store_true")
    parser.add_argument("--signals", action="store_true", help="wait for signals, not events")
    args = parser.parse_args()
    Config.app_id = args.app_id
    Config.signals = args.signals
    Config.server_url = args.server_url
    Config.serve_path = args.serve_path
    coro = serve(args.host, args.port, WaitProtocol, "wait endpoint")
    try:
        if args.no_uvloop:
            raise ImportError
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


if __name__ == "__main__":
    main()
