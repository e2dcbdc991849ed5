"""The HTTP call to an app's serve endpoint (keep-alive pool, one session per process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import orjson

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


class CallFailed(Exception):
    """The call never produced an SDK reply: network error, timeout, bad JSON."""


def step_url(url: str, step_id: str) -> str:
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "stepId"]
    query.append(("stepId", step_id))
    return urlunsplit(parts._replace(query=urlencode(query)))


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
    def __init__(self, timeout_seconds: float, server_kind: str = "dev") -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, sock_connect=10)
        self._server_kind = server_kind
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def call(self, url: str, body: bytes, run_id: str, step_id: str, version: int) -> Reply:
        headers = {
            "Content-Type": "application/json",
            "X-Inngest-Server-Kind": self._server_kind,
            "X-Run-ID": run_id,
            "X-Inngest-Step-ID": step_id,
        }
        if version > 0:
            headers["X-Inngest-Req-Version"] = str(version)
        try:
            async with self._client().post(url, data=body, headers=headers) as response:
                raw = await response.read()
                status = response.status
                reply_headers = {key.lower(): value for key, value in response.headers.items()}
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise CallFailed(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            ) from None
        return self._reply(status, reply_headers, raw)

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
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
