"""The HTTP call to an app's serve endpoint (keep-alive pool, one session per process)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import httptools
import orjson

from mainspring import codec
from mainspring.execution.keepalive import BadHeader, KeepAliveClient, ReplyTooLarge
from mainspring.protocol import signing, tracecontext
from mainspring.protocol.endpoints import EndpointCall

if TYPE_CHECKING:
    from mainspring.domain.functions import FunctionDef

SDK_HEADER = "x-inngest-sdk"
STREAMING_STATUS = 201


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any
    from_sdk: bool
    no_retry: bool
    retry_after: str | None
    request_version: int | None
    sdk: str = ""  # X-Inngest-SDK, e.g. "inngest-js:v4.24.0"


class CallFailed(Exception):
    """The call never produced an SDK reply: network error, timeout, bad JSON, too large."""


class CallRefused(Exception):
    """Production mode: the app refused our signature (401/403), or its reply was not signed
    with our key. Retrying cannot help until an operator fixes the keys, so the run fails."""


@lru_cache(maxsize=4096)  # a function's step ids repeat run after run
def step_url(url: str, step_id: str) -> str:
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "stepId"]
    query.append(("stepId", step_id))
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True, slots=True)
class _PlainTarget:
    host: str
    port: int
    host_header: str
    target: str  # path and query


@lru_cache(maxsize=4096)
def _plain_http(url: str) -> _PlainTarget | None:
    """Where a plain-http URL points, for the lean client; None for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.username or parts.password:
        return None
    try:
        port = parts.port or 80
    except ValueError:
        return None
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _PlainTarget(host, port, shown if port == 80 else f"{shown}:{port}", target)


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _unwrap_streamed(raw: bytes) -> tuple[int, dict[str, str], Any]:
    """INNGEST_STREAMING: leading keep-alive spaces, then {status, headers, body}."""
    envelope = orjson.loads(raw.strip())
    body = envelope.get("body")
    if isinstance(body, str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    headers = {key.lower(): str(value) for key, value in (envelope.get("headers") or {}).items()}
    return int(envelope.get("status", 500)), headers, body


class Driver:
    def __init__(
        self,
        timeout_seconds: float,
        server_kind: str = "dev",
        *,
        signing_key: str | None = None,
        verify_keys: tuple[str, ...] = (),
        max_reply_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, sock_connect=10)
        self._lean = KeepAliveClient(timeout_seconds)
        self._server_kind = server_kind
        self._signing_key = signing_key
        self._verify_keys = verify_keys
        self._max_reply = max_reply_bytes
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, skip_auto_headers=("User-Agent",)
            )
        return self._session

    def encode(self, request: Any) -> bytes:
        """A call's body. When we sign calls it is RFC 8785 canonical JSON, the form the SDKs
        verify, so what we sign is exactly what we send; otherwise plain orjson."""
        if self._signing_key is not None:
            return signing.canonical(request)
        return codec.dumpb(request)

    async def call(self, url: str, body: bytes, run_id: str, step_id: str, version: int) -> Reply:
        """POST `body` (made by `encode`) to the app and read its reply."""
        headers = {
            "Content-Type": "application/json",
            "X-Inngest-Server-Kind": self._server_kind,
            "X-Run-ID": run_id,
            "X-Inngest-Step-ID": step_id,
            "traceparent": tracecontext.traceparent(run_id, step_id),
        }
        if version > 0:
            headers["X-Inngest-Req-Version"] = str(version)
        if self._signing_key is not None:
            headers[signing.SIGNATURE_HEADER] = signing.signature(
                body, self._signing_key, int(time.time())
            )
        plain = _plain_http(url)
        if plain is not None:
            return await self._post_plain(plain, body, headers)
        return await self._exchange("POST", url, body, headers)

    async def _post_plain(self, to: _PlainTarget, body: bytes, headers: dict[str, str]) -> Reply:
        try:
            response = await self._lean.post(
                to.host,
                to.port,
                to.host_header,
                to.target,
                headers,
                body,
                self._max_reply,
            )
        except ReplyTooLarge:
            raise CallFailed(f"reply larger than {self._max_reply} bytes") from None
        except (TimeoutError, OSError, httptools.HttpParserError, BadHeader) as exc:
            raise CallFailed(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            ) from None
        self._check_signed(response.status, response.headers, response.body)
        return self._reply(response.status, response.headers, response.body)

    async def call_endpoint(
        self, call: EndpointCall, run_id: str, step_id: str, version: int, force_plan: bool
    ) -> Reply:
        """Continue a durable endpoint's run: its original request again, marked as ours
        (`X-Run-ID` plus a signature header, empty in dev), so the SDK runs it as a call."""
        headers = {"X-Inngest-Server-Kind": self._server_kind, "X-Run-ID": run_id}
        if call.content_type:
            headers["Content-Type"] = call.content_type
        if step_id != "step":
            headers["X-Inngest-Step-ID"] = step_id
        if force_plan:
            headers["X-Inngest-Force-Step-Plan"] = "true"
        if version > 0:
            headers["X-Inngest-Req-Version"] = str(version)
        headers[signing.SIGNATURE_HEADER] = ""  # the SDK tells our calls by its presence
        if self._signing_key is not None:
            headers[signing.SIGNATURE_HEADER] = signing.signature(
                call.signed_message(), self._signing_key, int(time.time())
            )
        return await self._exchange(call.method, call.url, call.body or None, headers)

    async def _exchange(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> Reply:
        try:
            async with self._client().request(method, url, data=body, headers=headers) as response:
                raw = await self._read_capped(response)
                status = response.status
                reply_headers = {key.lower(): value for key, value in response.headers.items()}
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise CallFailed(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            ) from None
        self._check_signed(status, reply_headers, raw)
        return self._reply(status, reply_headers, raw)

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        """The reply body, or CallFailed (retriable) once it exceeds the cap."""
        declared = response.content_length
        if declared is not None and declared > self._max_reply:
            raise CallFailed(f"reply larger than {self._max_reply} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > self._max_reply:
                raise CallFailed(f"reply larger than {self._max_reply} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_signed(self, status: int, headers: dict[str, str], raw: bytes) -> None:
        if self._signing_key is None:
            return
        if status in (401, 403):  # TS strips its x-inngest-* headers from this answer
            raise CallRefused(
                f"the app refused the request ({status}): its INNGEST_SIGNING_KEY "
                "(or INNGEST_SIGNING_KEY_FALLBACK) must match the server's signing key"
            )
        if not self._verify_keys or SDK_HEADER not in headers or status == STREAMING_STATUS:
            return  # streamed replies are signed inside the envelope's headers; not checked
        if not signing.verify(raw, headers.get("x-inngest-signature"), self._verify_keys):
            raise CallRefused(
                "the app's reply is not signed with the server's signing key "
                "(check the keys, or a proxy rewriting replies)"
            )

    def _reply(self, status: int, headers: dict[str, str], raw: bytes) -> Reply:
        from_sdk = SDK_HEADER in headers
        try:
            if status == STREAMING_STATUS and from_sdk:
                status, inner, body = _unwrap_streamed(raw)
                headers = {**headers, **inner}
            else:
                body = orjson.loads(raw) if raw.strip() else None
        except (orjson.JSONDecodeError, ValueError, AttributeError):
            if status < 300:
                raise CallFailed(f"invalid JSON in a {status} reply") from None
            body = {"message": raw[:2000].decode(errors="replace")}
        return Reply(
            status=status,
            body=body,
            from_sdk=from_sdk,
            no_retry=headers.get("x-inngest-no-retry", "").lower() == "true",
            retry_after=headers.get("retry-after"),
            request_version=_int_or_none(headers.get("x-inngest-req-version")),
            sdk=headers.get(SDK_HEADER, ""),
        )

    async def close(self) -> None:
        self._lean.close()
        if self._session is not None:
            await self._session.close()


class WorkerLost(CallFailed):
    """A Connect call that got no reply because its worker went away (or none was connected
    or free): nothing was recorded, so the queue item goes back to the queue without counting
    an attempt, and another worker takes it. `retry_in_ms` (None: the executor's default) is
    when: later while the app has had no worker for a while, so a queue of calls for an absent
    app is not leased again and again."""

    def __init__(self, reason: str, retry_in_ms: int | None = None) -> None:
        super().__init__(reason)
        self.retry_in_ms = retry_in_ms


class ConnectCalls(Protocol):
    """The Connect gateway as the executor sees it: functions of apps whose workers dial in
    are called over the worker's WebSocket with the same body, and answer the same reply."""

    def handles(self, function: FunctionDef) -> bool: ...

    async def call(
        self, function: FunctionDef, run_id: str, step_id: str, body: bytes
    ) -> Reply: ...
