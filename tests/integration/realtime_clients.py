"""Realtime subscribers on raw sockets, for tests that must control reading.

`SseSubscriber` speaks HTTP/1.1 and decodes the chunked SSE stream itself; `WsSubscriber`
uses the `websockets` library's sans-I/O client protocol over a plain socket. Either can be
told to shrink its receive buffer and not read for a while (a slow subscriber), then read on
and see how the server ended the subscription.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

JSONDict = dict[str, Any]


def _socket(base_url: str, rcvbuf: int | None) -> socket.socket:
    parts = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:  # before connecting: a fixed buffer stops the kernel's autotuning
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    return sock


class SseSubscriber:
    """`GET /v1/realtime/sse?…`; `status` and `headers` once connected."""

    def __init__(
        self,
        base_url: str,
        query: dict[str, str | list[str]],
        *,
        headers: dict[str, str] | None = None,
        rcvbuf: int | None = None,
    ) -> None:
        self.sock = _socket(base_url, rcvbuf)
        target = f"/v1/realtime/sse?{urlencode(query, doseq=True)}"
        lines = [f"GET {target} HTTP/1.1", "Host: test", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._raw = b""
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {
            k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)
        }
        self._text = ""
        self.ended = False

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._raw:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed before " + repr(marker))
            self._raw += data
        found, _, self._raw = self._raw.partition(marker)
        return found

    def body_json(self) -> JSONDict:
        length = int(self.headers.get("content-length", "0"))
        while len(self._raw) < length:
            self._raw += self.sock.recv(65536)
        parsed: JSONDict = json.loads(self._raw[:length])
        return parsed

    def _next_chunk(self) -> bool:
        size = int(self._read_until(b"\r\n"), 16)
        if size == 0:
            self.ended = True
            return False
        while len(self._raw) < size + 2:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed inside a chunk")
            self._raw += data
        self._text += self._raw[:size].decode()
        self._raw = self._raw[size + 2 :]
        return True

    def events(self, count: int | None = None, *, timeout: float = 10.0) -> list[JSONDict]:
        """Events (`{"event": name, "data": parsed}`) until `count` or the end of the stream;
        comments (keep-alives) are skipped."""
        found: list[JSONDict] = []
        deadline = time.monotonic() + timeout
        while count is None or len(found) < count:
            *blocks, self._text = self._text.split("\n\n")
            for index, block in enumerate(blocks):
                event = _sse_event(block)
                if event is not None:
                    found.append(event)
                    if count is not None and len(found) >= count:
                        rest = blocks[index + 1 :]
                        self._text = "".join(b + "\n\n" for b in rest) + self._text
                        return found
            if self.ended or time.monotonic() > deadline:
                return found
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                if not self._next_chunk():
                    continue
            except (TimeoutError, ConnectionError):
                return found
        return found

    def close(self) -> None:
        self.sock.close()


def _sse_event(block: str) -> JSONDict | None:
    name, data = "message", None
    for line in block.split("\n"):
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
    return None if data is None else {"event": name, "data": data}


class WsSubscriber:
    """`GET /v1/realtime/connect?…` upgraded to a WebSocket; `status` is the handshake's."""

    def __init__(
        self, base_url: str, query: dict[str, str | list[str]], *, rcvbuf: int | None = None
    ) -> None:
        self.sock = _socket(base_url, rcvbuf)
        host = urlsplit(base_url).netloc
        uri = parse_uri(f"ws://{host}/v1/realtime/connect?{urlencode(query, doseq=True)}")
        self.protocol = ClientProtocol(uri)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.response: Response | None = None
        self._pending: list[Frame] = []
        while self.response is None:
            self._receive()
        self.status = self.response.status_code
        self.close_code: int | None = None
        self.close_reason = ""

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _receive(self) -> bool:
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                self.response = event
            else:
                self._pending.append(event)
        self._flush()
        return bool(data)

    def body_json(self) -> JSONDict:
        assert self.response is not None and self.response.body is not None
        parsed: JSONDict = json.loads(self.response.body)
        return parsed

    def send(self, message: JSONDict) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    def messages(self, count: int | None = None, *, timeout: float = 10.0) -> list[JSONDict]:
        """Text messages until `count` or the close frame (`close_code`, `close_reason`)."""
        found: list[JSONDict] = []
        deadline = time.monotonic() + timeout
        while count is None or len(found) < count:
            while self._pending:
                frame = self._pending.pop(0)
                if frame.opcode is Opcode.TEXT:
                    found.append(json.loads(frame.data))
                elif frame.opcode is Opcode.CLOSE:
                    close = Close.parse(frame.data)
                    self.close_code, self.close_reason = close.code, close.reason
                    return found
                if count is not None and len(found) >= count:
                    return found
            if time.monotonic() > deadline:
                return found
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                if not self._receive():
                    return found
            except (TimeoutError, ConnectionError):
                return found
        return found

    def close(self) -> None:
        self.sock.close()
