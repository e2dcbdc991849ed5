"""The server's client for step.fetch / step.ai.infer (execution/egress.py) against a fake
service on loopback: the size cap, the timeout, the production allow-list and redirects, and
error messages free of the request's secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mainspring.execution.egress import Egress
from mainspring.protocol import gateway

from .fake_http import Answer, FakeHttp, running_fake_http

KEY = "sk-egress-test-0123456789"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHttp]:
    yield from running_fake_http()


def fetch(url: str, **opts: object) -> gateway.OutgoingRequest:
    return gateway.fetch_request({"url": url, **opts})


async def test_an_answer_over_the_cap_is_refused_without_retry(fake: FakeHttp) -> None:
    url = fake.script(fake.new_path(), Answer(200, b"x" * 5000))
    client = Egress(timeout_s=5, max_bytes=4096, allow=None)
    try:
        exchange = await client.perform(fetch(url))
        assert exchange.status is None and not exchange.retryable
        assert exchange.error is not None and "--egress-max-bytes" in exchange.error
        ok = await client.perform(fetch(fake.script(fake.new_path(), Answer(200, b"small"))))
        assert (ok.status, ok.body) == (200, b"small")
    finally:
        await client.close()


async def test_a_slow_service_times_out_and_may_be_retried(fake: FakeHttp) -> None:
    url = fake.script(fake.new_path(), Answer(200, b"late", delay_s=2.0))
    client = Egress(timeout_s=1, max_bytes=4096, allow=None)
    try:
        exchange = await client.perform(fetch(url))
        assert exchange.status is None and exchange.retryable
        assert exchange.error is not None and "Timeout" in exchange.error
    finally:
        await client.close()


async def test_production_refuses_unlisted_urls_and_redirects(fake: FakeHttp) -> None:
    allowed_path = fake.new_path("ok/")
    target = fake.script(fake.new_path("elsewhere/"), Answer(200, b"internal"))
    hop = fake.script(allowed_path, Answer(302, b"", {"Location": target}))
    client = Egress(timeout_s=5, max_bytes=4096, allow=(f"{fake.origin}/ok/",))
    try:
        denied = await client.perform(fetch(target))
        assert denied.error is not None and "--egress-allow" in denied.error
        assert not denied.retryable and fake.seen("/elsewhere/") == []
        redirected = await client.perform(fetch(hop))
        assert redirected.status == 302  # handed back as is, not followed
        assert fake.seen("/elsewhere/") == []
    finally:
        await client.close()


async def test_errors_never_carry_the_key() -> None:
    request = gateway.ai_request(
        {
            "url": "http://127.0.0.1:9/v1beta/models/m:generateContent",
            "auth_key": KEY,
            "format": "gemini",
        }
    )
    client = Egress(timeout_s=5, max_bytes=4096, allow=None)
    try:
        exchange = await client.perform(request)  # nothing listens on port 9
        assert exchange.error is not None and exchange.retryable
        assert KEY not in exchange.error
    finally:
        await client.close()
