"""App sync: `/fn/register` handling and, in dev, keeping every `-u` URL synced.

A sync is a PUT to the app; the SDK answers by POSTing its functions to `/fn/register`.
A URL that does not answer is retried quickly until it does; synced URLs are re-synced every
poll interval (unless polling is off) so a restarted app with new functions is picked up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import yarl

from mainspring import audit, errors
from mainspring.clock import Clock
from mainspring.protocol import signing
from mainspring.registry.service import Registry
from mainspring.settings import Settings
from mainspring.store.base import Connector, Row
from mainspring.store.repos.apps import SyncResult
from mainspring.supervision import Component, start_supervised

log = logging.getLogger("mainspring.sync")
FAILED_RETRY_S = 0.5
MAX_URL_LENGTH = 2048
PUT_TIMEOUT_S = 30.0
DISCOVERY_PORTS = (
    80,
    443,
    *range(3000, 3011),
    4321,
    5000,
    5173,
    8000,
    8080,
    8081,
    8787,
    8888,
    *range(8910, 8916),
)
DISCOVERY_PATHS = (
    "/api/inngest",
    "/x/inngest",
    "/.netlify/functions/inngest",
    "/.redwood/functions/inngest",
)


@dataclass(slots=True)
class UrlState:
    url: str
    error: str | None = None
    synced_at: int | None = None
    discovered: bool = False  # found by probing local ports (dev), not given


def normalize_url(url: str) -> str:
    return url if "://" in url else f"http://{url}"


def check_app_url(url: str) -> None:
    """An http(s) URL with a host that the HTTP client can call (parsed as aiohttp parses it).

    Found by schemathesis: `http://¢\x9eF` passed the prefix check, was kept for re-syncing
    and answered 502 with the client's parse error instead of 400.
    """
    try:
        parsed = yarl.URL(url)
    except (ValueError, UnicodeError):
        raise errors.InvalidInput("url is not a valid URL", field="url") from None
    if parsed.scheme not in ("http", "https"):
        raise errors.InvalidInput("url must be http:// or https://", field="url")
    host = parsed.raw_host or ""
    if not host or any(char.isspace() or char == "%" for char in host):
        raise errors.InvalidInput("url must name a valid host", field="url")


def url_allowed(url: str, allow: tuple[str, ...]) -> bool:
    """SSRF guard: with an allow-list, an app URL must start with one of its prefixes."""
    return not allow or any(url.startswith(prefix) for prefix in allow)


def _relayed_failure(text: str) -> bool:
    """The Python SDK relays `/fn/register`'s answer as its PUT reply with HTTP 200, so a
    refused registration shows only in the body's `status` (Go's error shape)."""
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    status = body.get("status") if isinstance(body, dict) else None
    return isinstance(status, int) and status >= 400


def _payload_urls(body: Any) -> list[str]:
    """Every URL a register payload asks us to call: the app's and each step runtime's."""
    if not isinstance(body, dict):
        return []
    urls = [body.get("url")]
    functions = body.get("functions")
    for function in functions if isinstance(functions, list) else []:
        steps = function.get("steps") if isinstance(function, dict) else None
        for step in (steps or {}).values() if isinstance(steps, dict) else []:
            runtime = step.get("runtime") if isinstance(step, dict) else None
            urls.append(runtime.get("url") if isinstance(runtime, dict) else None)
    return [url for url in urls if isinstance(url, str)]


class AppSync:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        clock: Clock,
        connector: Connector | None = None,
    ) -> None:
        self._settings = settings
        self._connector = connector  # where operators' sync requests are recorded (audit log)
        self._registry = registry
        self._clock = clock
        self.urls: dict[str, UrlState] = {
            normalize_url(url): UrlState(normalize_url(url)) for url in settings.sdk_urls
        }
        # URL → id of an app deleted here: not discovered again, and a sync of it that was in
        # flight when it was deleted (its app registers as it answers) deletes it again.
        self._deleted: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self.component = Component("app-sync")
        self._session: aiohttp.ClientSession | None = None

    async def register(self, body: Any, expected_kind: str | None) -> SyncResult:
        if expected_kind and expected_kind != self._settings.server_kind:
            raise errors.InvalidInput(
                f"the SDK expects a {expected_kind} server; this is a "
                f"{self._settings.server_kind} server",
                field="X-Inngest-Expected-Server-Kind",
            )
        for url in _payload_urls(body):
            self.check_allowed(url)
        return await self._registry.register(body, self._clock())

    def check_allowed(self, url: str) -> None:
        if not url_allowed(url, self._settings.app_url_allow):
            raise errors.InvalidInput(
                "the app URL is not in the server's allow-list (--app-url-allow)", field="url"
            )

    async def add_url(self, url: str) -> UrlState:
        """Sync the app at `url` now and keep it synced (the admin API, the dashboard's and
        GraphQL's "sync new app"). An unusable URL raises InvalidInput naming `url`; a sync that
        fails is in the answer's `error`, and is retried like any other URL."""
        if not url.strip() or len(url) > MAX_URL_LENGTH:
            message = f"url must be a string of 1-{MAX_URL_LENGTH} characters"
            raise errors.InvalidInput(message, field="url")
        url = normalize_url(url.strip())
        check_app_url(url)
        self.check_allowed(url)
        self._deleted.pop(url, None)
        state = self.urls.setdefault(url, UrlState(url))
        await self.sync_url(state)
        if self._connector is not None:
            details = {"ok": state.error is None, "error": state.error}
            await audit.record_now(
                self._connector,
                "app.sync",
                at=self._clock(),
                target_kind="url",
                target_id=url,
                details=details,
            )
        return state

    async def delete_app(self, app_id: str) -> Row | None:
        """Delete an app (see `Registry.delete_app`) and stop syncing its URL."""
        app = await self._registry.delete_app(app_id, self._clock())
        if app is not None:
            for url in {str(app["url"]), normalize_url(str(app["url"]))}:
                self.urls.pop(url, None)
                self._deleted[url] = app_id
        return app

    def start(self) -> None:
        self._task = start_supervised(self.component, self._loop)

    def components(self) -> list[Component]:
        return [] if self._task is None else [self.component]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=PUT_TIMEOUT_S, sock_connect=2)
            )
        return self._session

    async def _loop(self) -> None:
        last_full = 0.0
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            due_all = (now - last_full >= self._settings.poll_interval_s) and (
                self._settings.poll or last_full == 0.0
            )
            if due_all:
                last_full = now
            targets = [s for s in self.urls.values() if due_all or s.synced_at is None]
            await asyncio.gather(*(self.sync_url(state) for state in targets))
            if (
                self._settings.discovery
                and due_all
                and not any(s.synced_at for s in self.urls.values())
            ):
                await self._discover()
            await asyncio.sleep(FAILED_RETRY_S)

    async def sync_url(self, state: UrlState) -> None:
        headers = {
            "X-Inngest-Server-Kind": self._settings.server_kind,
            "Content-Type": "application/json",
        }
        body = signing.canonical({"url": state.url})
        if self._settings.signing_key:
            headers[signing.SIGNATURE_HEADER] = signing.signature(
                body, self._settings.signing_key, int(time.time())
            )
        try:
            if not url_allowed(state.url, self._settings.app_url_allow):
                raise RuntimeError("the URL is not in the allow-list (--app-url-allow)")
            async with self._client().put(state.url, data=body, headers=headers) as response:
                text = await response.text()
                if response.status >= 300:
                    raise RuntimeError(f"the app answered {response.status}: {text[:300]}")
                if _relayed_failure(text):  # the Python SDK answers 200 with our error body
                    raise RuntimeError(f"the app's registration failed: {text[:300]}")
        except (TimeoutError, aiohttp.ClientError, OSError, RuntimeError) as exc:
            message = str(exc) or type(exc).__name__
            if state.error != message:
                log.warning("sync of %s failed: %s", state.url, message)
            state.error = message
            state.synced_at = None
            return
        if state.url in self._deleted:  # deleted while this sync was in flight
            await self._registry.delete_app(self._deleted[state.url], self._clock())
            return
        if state.synced_at is None:
            log.info("synced %s", state.url)
        state.error = None
        state.synced_at = self._clock()

    async def _discover(self) -> None:
        """Probe the usual local ports and paths for a serve endpoint (dev only)."""
        candidates = [
            f"http://127.0.0.1:{port}{path}"
            for port in DISCOVERY_PORTS
            if port != self._settings.port
            for path in DISCOVERY_PATHS
        ]
        found = await asyncio.gather(*(self._probe(url) for url in candidates))
        for url, ok in zip(candidates, found, strict=True):
            if ok and url not in self.urls and url not in self._deleted:
                log.info("discovered an app at %s", url)
                self.urls[url] = UrlState(url, discovered=True)

    async def _probe(self, url: str) -> bool:
        try:
            async with self._client().get(
                url, timeout=aiohttp.ClientTimeout(total=1, sock_connect=0.3)
            ) as response:
                return "x-inngest-sdk" in {key.lower() for key in response.headers}
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False
