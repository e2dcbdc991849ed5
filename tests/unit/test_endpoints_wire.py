"""Durable endpoints on the wire: the new-run request, the replayed request, the output, tokens."""

from __future__ import annotations

from typing import Any

import pytest

from mainspring import errors
from mainspring.protocol import endpoints, run_tokens, signing
from mainspring.registry import endpoints as endpoint_functions

RUN_ID = "01M8XV0SYJCK6H60EGMS96WFCQ"


def http_event(**data: Any) -> dict[str, Any]:
    base = {
        "domain": "http://127.0.0.1:3000",
        "method": "GET",
        "path": "/api/report",
        "query_params": "",
        "body": "",
        "content_type": "",
        "ip": "",
        "fn": "",
    }
    return {"name": endpoints.HTTP_REQUEST, "data": {**base, **data}}


def new_run(**fields: Any) -> dict[str, Any]:
    body = {"run_id": RUN_ID, "event": http_event(), "steps": [], "request_version": 2}
    return {**body, **fields}


def test_a_new_run_as_the_typescript_sdk_sends_it() -> None:
    parsed = endpoints.parse_new_run(new_run(retries=3, ts=1))
    assert (parsed.run_id, parsed.retries, parsed.request_version) == (RUN_ID, 3, 2)
    assert endpoints.parse_new_run(new_run(retries=None, request_version=None)).retries is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"run_id": "not-a-ulid"}, "run_id"),
        ({"run_id": None}, "run_id"),
        ({"event": {"name": "app/other", "data": {}}}, "event"),
        ({"event": http_event(domain="ftp://x")}, "event.data.domain"),
        ({"event": http_event(domain=None)}, "event.data.domain"),
        ({"event": http_event(path="relative")}, "event.data.path"),
    ],
)
def test_a_bad_new_run_names_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        endpoints.parse_new_run(new_run(**fields))
    assert caught.value.field == field


def test_the_endpoint_and_its_function_slug() -> None:
    endpoint = endpoints.endpoint_of(http_event(domain="https://api.example.com", method="post"))
    assert (endpoint.method, endpoint.name, endpoint.url) == (
        "POST",
        "POST /api/report",
        "https://api.example.com/api/report",
    )
    assert endpoint.slug == "api-example-com-post-api-report"
    named = endpoints.endpoint_of(http_event(fn="Weekly Report"))
    assert (named.name, named.slug) == ("Weekly Report", "127-0-0-1-3000-weekly-report")


def test_the_function_config_of_an_endpoint() -> None:
    endpoint = endpoints.endpoint_of(http_event())
    config = endpoint_functions.config_of(endpoint, 5)
    assert endpoint_functions.is_endpoint(config)
    row = {"id": "f1", "app_id": "a1", "slug": endpoint.slug, "name": endpoint.name}
    function = endpoint_functions.function_of(row, config)
    assert function.endpoint and function.triggers == () and function.max_attempts == 6
    assert endpoint_functions.config_of(endpoint, None)["steps"]["step"]["retries"] == {
        "attempts": 3
    }


def test_the_replayed_request_keeps_method_query_body_and_type() -> None:
    event = http_event(
        method="POST", query_params="a=1&b=2", body='{"x": 1}', content_type="application/json"
    )
    call = endpoints.call_of(event)
    assert (call.method, call.url) == ("POST", "http://127.0.0.1:3000/api/report?a=1&b=2")
    assert (call.body, call.content_type) == (b'{"x": 1}', "application/json")
    assert call.signed_message() == signing.canonical({"x": 1})  # what the SDK verifies


@pytest.mark.parametrize(
    ("method", "body"), [("GET", ""), ("POST", ""), ("POST", "not json"), ("DELETE", "{}")]
)
def test_requests_without_a_json_body_are_signed_as_nothing(method: str, body: str) -> None:
    call = endpoints.call_of(http_event(method=method, body=body))
    assert call.signed_message() == b""


def test_the_output_of_an_endpoint_is_its_response() -> None:
    output = {
        "status": 201,
        "headers": {"content-type": "application/json", "content-length": "9"},
        "body": '{"ok":1}',
        "version": 2,
    }
    response = endpoints.response_of(output)
    assert response is not None
    assert (response.status, response.headers, response.body) == (
        201,
        {"content-type": "application/json"},
        b'{"ok":1}',
    )
    assert endpoints.response_of({"status": "200"}) is None
    assert endpoints.response_of({"total": 3}) is None
    assert endpoints.response_of(None) is None


def test_run_tokens_open_one_run_for_one_purpose_until_they_expire() -> None:
    tokens = run_tokens.RunTokens("signkey-prod-" + "ab" * 32)
    token = tokens.issue(RUN_ID, run_tokens.OUTPUT, 1000)
    assert tokens.verify(token, run_tokens.OUTPUT, 1000) == RUN_ID
    assert tokens.verify(token, "other", 1000) is None
    assert tokens.verify(token, run_tokens.OUTPUT, 1000 + run_tokens.TTL_S + 1) is None
    assert tokens.verify(token.replace(RUN_ID, "0" * 26), run_tokens.OUTPUT, 1000) is None
    assert run_tokens.RunTokens("cd" * 32).verify(token, run_tokens.OUTPUT, 1000) is None
    assert tokens.verify(None, run_tokens.OUTPUT, 1000) is None
    assert tokens.verify("a.b.c", run_tokens.OUTPUT, 1000) is None
    # The same key in another process (or after a restart) accepts it.
    again = run_tokens.RunTokens("signkey-prod-" + "ab" * 32)
    assert again.verify(token, run_tokens.OUTPUT, 1000) == RUN_ID
