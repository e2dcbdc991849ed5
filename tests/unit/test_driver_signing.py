"""The driver in production mode against a real HTTP endpoint on loopback (aiohttp): requests
are signed over the JCS body; replies must carry a valid signature; 401/403 refuse the call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from inngest._internal import net

from mainspring.execution.driver import CallFailed, CallRefused, Driver
from mainspring.protocol import signing

KEY = "signkey-prod-" + "12" * 32
OTHER = "signkey-prod-" + "34" * 32
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Serve = Callable[[Handler], Awaitable[str]]


@pytest.fixture
async def endpoint() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def serve(handler: Handler) -> str:
        app = web.Application()
        app.router.add_post("/api/inngest", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/api/inngest"

    yield serve
    for runner in runners:
        await runner.cleanup()


def sdk_reply(body: bytes, key: str | None, status: int = 200) -> web.Response:
    headers = {"X-Inngest-SDK": "inngest-py:v0.5.19", "Content-Type": "application/json"}
    if key:
        headers["X-Inngest-Signature"] = str(net.sign_response(body, key, 1_700_000_000))
    return web.Response(body=body, status=status, headers=headers)


async def call(driver: Driver, url: str) -> object:
    try:
        body = driver.encode({"b": 1.5, "a": "é"})
        return await driver.call(url, body, "run", "step", 2)
    finally:
        await driver.close()


async def test_requests_are_signed_as_the_sdk_verifies(endpoint: Serve) -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        raw = await request.read()
        seen["valid"] = net.validate_request_sig(
            body=raw,
            headers={k.lower(): v for k, v in request.headers.items()},
            mode=net.server_lib.ServerKind.CLOUD,
            signing_key=KEY,
            signing_key_fallback=None,
        )
        seen["canonical"] = raw == signing.canonical(json.loads(raw))
        return sdk_reply(b'"ok"', KEY)

    url = await endpoint(handler)
    reply = await call(Driver(5, "cloud", signing_key=KEY, verify_keys=(KEY,)), url)
    assert seen == {"valid": KEY, "canonical": True}
    assert getattr(reply, "body", None) == "ok"


@pytest.mark.parametrize(
    ("reply_key", "status", "error"),
    [
        (OTHER, 200, CallRefused),  # signed with another key
        (None, 200, CallRefused),  # not signed
        (None, 401, CallRefused),  # the app refused our signature
        (None, 403, CallRefused),
    ],
)
async def test_bad_replies_refuse_the_call(
    endpoint: Serve, reply_key: str | None, status: int, error: type[Exception]
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return sdk_reply(b'{"message":"x"}', reply_key, status)

    url = await endpoint(handler)
    with pytest.raises(error):
        await call(Driver(5, "cloud", signing_key=KEY, verify_keys=(KEY,)), url)


async def test_verification_off_accepts_unsigned_replies(endpoint: Serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return sdk_reply(b'"ok"', None)

    url = await endpoint(handler)
    reply = await call(Driver(5, "cloud", signing_key=KEY, verify_keys=()), url)
    assert getattr(reply, "status", None) == 200


async def test_a_reply_over_the_cap_is_a_retriable_failure(endpoint: Serve) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"X-Inngest-SDK": "x"})
        await response.prepare(request)
        for _ in range(10):  # chunked: no Content-Length to judge by
            await response.write(b"x" * 1024)
        await response.write_eof()
        return response

    url = await endpoint(handler)
    with pytest.raises(CallFailed, match="larger than 4096"):
        await call(Driver(5, "dev", max_reply_bytes=4096), url)
