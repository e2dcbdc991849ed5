"""The server's own outgoing requests (`step.fetch`, `step.ai.infer`): one pooled HTTP client
with a timeout, a response size cap and, in production, an allow-list (an SSRF guard).

Nothing here logs or raises with a request's headers or full URL: failures carry a message
already redacted and scrubbed of the request's secrets.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
import yarl

from mainspring.protocol import redaction
from mainspring.protocol.gateway import OutgoingRequest

log = logging.getLogger("mainspring.egress")
CONNECT_TIMEOUT_S = 10
MAX_REDIRECTS = 10
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Exchange:
    """What one request came to: a response (`status`), or `error` (no response) and whether
    trying again could help."""

    duration_ms: int
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = field(default=b"", repr=False)
    decoded: bool = False  # the client undid a Content-Encoding
    error: str | None = None
    retryable: bool = True
    retry_after: str | None = None


def allowed(url: str, allow: tuple[str, ...]) -> bool:
    """Whether `url` matches an allow-list entry: same scheme, host and port, and a path under
    the entry's (`https://api.openai.com/v1/`). An entry without a host (`https://`) allows
    any host of that scheme. Unlike a plain prefix, `https://api.example.com` does not allow
    `https://api.example.com.evil.test/`."""
    try:
        target = urlsplit(url)
        port = target.port or _DEFAULT_PORTS.get(target.scheme)
        # The path as the client will send it: yarl resolves `..` and `%2e%2e` segments, so
        # `https://h/v1/../admin` must be judged as `/admin`, not under `/v1/`.
        sent_path = yarl.URL(url).path
    except ValueError:
        return False
    for entry in allow:
        try:
            rule = urlsplit(entry)
            rule_port = rule.port or _DEFAULT_PORTS.get(rule.scheme)
        except ValueError:
            continue
        if rule.scheme != target.scheme:
            continue
        if not rule.hostname:
            return True
        if (rule.hostname, rule_port) != (target.hostname, port):
            continue
        if sent_path.startswith(rule.path) or rule.path in ("", "/"):
            return True
    return False


class Egress:
    """`perform` sends one request; `allow` is None to allow every URL (dev mode)."""

    def __init__(self, *, timeout_s: float, max_bytes: int, allow: tuple[str, ...] | None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=CONNECT_TIMEOUT_S)
        self._max_bytes = max_bytes
        self._allow = allow
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=300)
            # No Content-Type the caller did not give (Go's client adds none either).
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                skip_auto_headers=("User-Agent", "Content-Type"),
            )
        return self._session

    def denial(self, request: OutgoingRequest) -> str | None:
        """Why production refuses this URL (None: allowed)."""
        if self._allow is None or allowed(request.url, self._allow):
            return None
        return (
            f"{request.method} {request.shown_url} is not allowed: in production, server-side "
            "requests (step.fetch, step.ai.infer) may only go to URLs listed with "
            "--egress-allow (MAINSPRING_EGRESS_ALLOW)"
        )

    async def perform(self, request: OutgoingRequest) -> Exchange:
        started = time.perf_counter()
        denied = self.denial(request)
        if denied is not None:
            log.warning("refused a server-side request: %s", denied)
            return Exchange(duration_ms=0, error=denied, retryable=False)
        try:
            # Redirects are followed in dev only: in production each hop would need the check.
            async with self._client().request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body,
                allow_redirects=self._allow is None,
                max_redirects=MAX_REDIRECTS,
            ) as response:
                body = await self._read_capped(response)
                if body is None:
                    return Exchange(
                        duration_ms=_since(started),
                        error=f"response larger than {self._max_bytes} bytes (--egress-max-bytes)",
                        retryable=False,
                    )
                return Exchange(
                    duration_ms=_since(started),
                    status=response.status,
                    headers=list(response.headers.items()),
                    body=body,
                    decoded="Content-Encoding" in response.headers,
                    retry_after=response.headers.get("Retry-After"),
                )
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            message = redaction.scrub(
                message.replace(request.url, request.shown_url), request.secrets
            )
            return Exchange(duration_ms=_since(started), error=message)

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes | None:
        """The body, or None once it exceeds the cap."""
        declared = response.content_length
        if declared is not None and declared > self._max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > self._max_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
