"""Realtime: publish → subscriber latency with many subscribers on one server.

A fresh `mainspring dev` server (SQLite), `--subscribers` (1,000) connections to one channel and
topic in a separate subscriber process (plain sockets on one epoll), then `--messages` (200)
publishes, one every `--interval-ms` (50), each `POST /v1/realtime/publish` carrying
`time.time_ns()`. The subscriber sockets ask the kernel to stamp each packet they receive
(SO_TIMESTAMPNS, the same clock): a (message, subscriber) latency is that stamp minus the
publish time, so it is the server's part, however long the subscriber process itself takes
to read 1,000 sockets on a shared 2-core machine; that process runs at nice 19, so that it
takes CPU the server does not need rather than the server's. Run once over SSE and once over
WebSockets (`--transports`). Also reported: the CPU per published message of the server and of
the subscriber process.

    .venv/bin/python bench/bench_realtime.py
    .venv/bin/python bench/bench_realtime.py --subscribers 200 --messages 50 --transports sse
    PROF=/tmp/server.prof .venv/bin/python bench/bench_realtime.py   # the server under cProfile

Targets (issue 16): p50 ≤ 10 ms and p99 ≤ 50 ms with 1,000 subscribers.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import secrets
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_P50_MS, TARGET_P99_MS = 10.0, 50.0
CHANNEL, TOPIC = "bench", "tick"
STAMP = re.compile(rb'"seq":(\d+),"t":(\d+)\}')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---- the subscriber process -----------------------------------------------------------------


SO_TIMESTAMPNS = 35  # Linux: the kernel stamps each received packet (CLOCK_REALTIME, ns)
TIMESPEC = struct.Struct("@ll")


def _request(transport: str) -> tuple[bytes, bytes]:
    """The subscribe request and what marks it accepted."""
    query = f"channel={CHANNEL}&topic={TOPIC}"
    if transport == "sse":
        request = f"GET /v1/realtime/sse?{query} HTTP/1.1\r\nHost: bench\r\n\r\n"
        return request.encode(), b": subscribed"
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    request = (
        f"GET /v1/realtime/connect?{query} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    return request.encode(), b"101 Switching"


def _connect(port: int, request: bytes, marker: bytes) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.sendall(request)
    seen = b""
    while marker not in seen:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed before subscribing")
        seen += data
    sock.setblocking(False)
    return sock, seen[seen.index(marker) + len(marker) :]


def _stamp(ancillary: list[tuple[int, int, bytes]]) -> int:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanos = TIMESPEC.unpack(data[: TIMESPEC.size])
            return seconds * 1_000_000_000 + nanos
    return time.time_ns()


def subscribe_all(port: int, transport: str, count: int, messages: int) -> None:
    """Latency = when the subscriber's kernel received the bytes (SO_TIMESTAMPNS) minus when
    the publisher sent the request: the server's part, whatever this process's own lag."""
    os.nice(19)  # the server first: our own lag does not count (kernel stamps), its would
    request, marker = _request(transport)
    sockets, buffers, latencies = {}, {}, {}
    for _ in range(count):
        sock, rest = _connect(port, request, marker)
        sockets[sock.fileno()], buffers[sock.fileno()] = sock, rest
        latencies[sock.fileno()] = []
    poller = select.epoll()
    for fd in sockets:
        poller.register(fd, select.EPOLLIN)
    print(json.dumps({"ready": True}), flush=True)
    complete, deadline = 0, time.monotonic() + messages * 0.5 + 30
    while complete < count and time.monotonic() < deadline:
        for fd, _ in poller.poll(1.0):
            data, ancillary, _, _ = sockets[fd].recvmsg(1 << 20, 256)
            arrived = _stamp(ancillary)
            buffer = buffers[fd] + data
            end = 0
            for match in STAMP.finditer(buffer):
                latencies[fd].append(arrived - int(match.group(2)))
                end = match.end()
            buffers[fd] = buffer[end:]
            if end and len(latencies[fd]) == messages:
                complete += 1
    found = [ns / 1e6 for values in latencies.values() for ns in values]
    print(json.dumps({"latencies_ms": found, "expected": count * messages}), flush=True)


# ---- the driver ------------------------------------------------------------------------------


@contextlib.contextmanager
def server(workdir: Path, subscribers: int) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    profile = ["-m", "cProfile", "-o", os.environ["PROF"]] if os.environ.get("PROF") else []
    command = [sys.executable, *profile, "-m", "mainspring", "dev", "--port", str(port), "--db"]
    command += [str(workdir / "bench.db"), "--no-discovery", "--no-ui"]
    command += ["--max-connections", str(subscribers + 100)]
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def measure(transport: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with server(workdir, args.subscribers) as (proc, port):
        child = subprocess.Popen(
            [
                *(sys.executable, __file__, "--role", "subscribers", "--port", str(port)),
                *("--transports", transport, "--subscribers", str(args.subscribers)),
                *("--messages", str(args.messages)),
            ],
            stdout=subprocess.PIPE,
        )
        assert child.stdout is not None
        assert json.loads(child.stdout.readline()) == {"ready": True}
        url = f"http://127.0.0.1:{port}/v1/realtime/publish"
        params = {"channel": CHANNEL, "topic": TOPIC}
        cpu_before, client_before = cpu_seconds(proc.pid), cpu_seconds(child.pid)
        with httpx.Client(timeout=10) as client:
            for seq in range(args.messages):
                body = f'{{"seq":{seq},"t":{time.time_ns()}}}'
                client.post(url, params=params, content=body).raise_for_status()
                time.sleep(args.interval_ms / 1000)
        cpu = cpu_seconds(proc.pid) - cpu_before
        client_cpu = cpu_seconds(child.pid) - client_before
        result = json.loads(child.stdout.readline())
        child.wait(timeout=60)
    latencies = result["latencies_ms"]
    return {
        "transport": transport,
        "subscribers": args.subscribers,
        "messages": args.messages,
        "delivered": len(latencies),
        "expected": result["expected"],
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
        "server_cpu_ms_per_message": round(cpu * 1000 / args.messages, 2),
        "subscribers_cpu_ms_per_message": round(client_cpu * 1000 / args.messages, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--interval-ms", type=float, default=50.0)
    parser.add_argument("--transports", default="sse,ws")
    parser.add_argument("--role", default="driver", choices=["driver", "subscribers"])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.role == "subscribers":
        subscribe_all(args.port, args.transports, args.subscribers, args.messages)
        return 0
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as tmp:
        for transport in args.transports.split(","):
            row = measure(transport, args, Path(tmp))
            ok = (
                row["delivered"] == row["expected"]
                and row["p50_ms"] <= TARGET_P50_MS
                and row["p99_ms"] <= TARGET_P99_MS
            )
            failed |= not ok
            print(json.dumps({**row, "verdict": "PASS" if ok else "MISS"}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
