"""step.fetch / step.ai.infer requests from opcode opts; redaction; the egress allow-list."""

import pytest

from mainspring.execution.egress import allowed
from mainspring.protocol import gateway, redaction

KEY = "sk-live-0123456789"


def test_openai_compatible_formats_send_a_bearer_key() -> None:
    for fmt in ("openai-chat", "grok", "openai-responses", None):
        request = gateway.ai_request(
            {
                "url": "https://api.openai.com/v1/chat/completions",
                "auth_key": KEY,
                "format": fmt,
                "body": {"model": "m", "messages": []},
            }
        )
        assert request.method == "POST"
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert request.headers["Content-Type"] == "application/json"
        assert request.body == b'{"model":"m","messages":[]}'


def test_anthropic_sends_x_api_key_and_a_version_the_sdk_may_replace() -> None:
    request = gateway.ai_request(
        {
            "url": "https://api.anthropic.com/v1/messages",
            "auth_key": KEY,
            "format": "anthropic",
            "headers": {"x-my-header": "my-value"},
            "body": {},
        }
    )
    assert request.headers["X-Api-Key"] == KEY  # Go's canonical names, as inngest-py checks
    assert request.headers["X-My-Header"] == "my-value"
    assert request.headers["Anthropic-Version"] == gateway.ANTHROPIC_VERSION
    assert "Authorization" not in request.headers
    replaced = gateway.ai_request(
        {
            "url": "https://a.test/v1/messages",
            "auth_key": KEY,
            "format": "anthropic",
            "headers": {"anthropic-version": "2099-01-01"},
        }
    )
    assert replaced.headers["Anthropic-Version"] == "2099-01-01"


def test_gemini_key_goes_in_the_query_once_and_is_redacted() -> None:
    request = gateway.ai_request(
        {
            "url": "https://g.test/v1beta/models/m:generateContent",
            "auth_key": KEY,
            "format": "gemini",
        }
    )
    assert request.url.endswith(f"?key={KEY}")
    assert "Authorization" not in request.headers
    assert request.shown_url == "https://g.test/v1beta/models/m:generateContent?key=REDACTED"
    already = gateway.ai_request(
        {"url": f"https://g.test/m:generateContent?key={KEY}", "auth_key": KEY, "format": "gemini"}
    )
    assert already.url.count("key=") == 1


def test_azure_and_bedrock_auth() -> None:
    azure = gateway.ai_request(
        {"url": "https://x.test/", "auth_key": KEY, "format": "azure-openai"}
    )
    assert azure.headers["Api-Key"] == KEY and "Authorization" not in azure.headers
    bedrock = gateway.ai_request({"url": "https://x.test/", "auth_key": KEY, "format": "bedrock"})
    assert bedrock.headers["Authorization"] == KEY


def test_no_key_no_auth_header() -> None:
    request = gateway.ai_request({"url": "http://127.0.0.1:9/v1/chat/completions"})
    assert "Authorization" not in request.headers


def test_fetch_request_from_the_ts_opts() -> None:
    request = gateway.fetch_request(
        {
            "url": "http://h.test/p?q=1",
            "method": "post",
            "headers": {"content-type": "text/plain", "content-length": "999"},
            "body": "hello",
        }
    )
    assert (request.method, request.body) == ("POST", b"hello")
    assert request.headers["Content-Type"] == "text/plain"
    assert "Content-Length" not in request.headers
    get = gateway.fetch_request({"url": "https://h.test/"})
    assert (get.method, get.body) == ("GET", None)


@pytest.mark.parametrize(
    "opts",
    [
        {"url": "file:///etc/passwd"},
        {"url": "not a url"},
        {"url": "https://h.test/", "method": "GE T"},
        {"url": "https://h.test/", "headers": {"x-a": "b\r\nInjected: 1"}},
    ],
)
def test_invalid_opts_are_refused(opts: dict[str, object]) -> None:
    with pytest.raises(gateway.InvalidRequest):
        gateway.fetch_request(opts)


def test_fetch_memo_is_what_the_ts_sdk_rebuilds_a_response_from() -> None:
    headers = gateway.response_headers(
        [
            ("content-type", "text/plain"),
            ("set-cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("content-encoding", "gzip"),
            ("content-length", "12"),
        ],
        decoded=True,
    )
    assert headers == {"Content-Type": "text/plain", "Set-Cookie": "a=1,b=2"}
    assert gateway.fetch_memo("https://h.test/", 200, headers, b"hi") == {
        "data": {"url": "https://h.test/", "status_code": 200, "headers": headers, "body": "hi"}
    }
    assert gateway.fetch_memo("https://h.test/", 204, {}, b"")["data"]["body"] is None


def test_redact_url() -> None:
    url = "https://user:pw@h.test/a?key=abc&api_key=def&page=2&access_token=x&author=me"
    assert redaction.redact_url(url) == (
        "https://user:REDACTED@h.test/a?key=REDACTED&api_key=REDACTED&page=2"
        "&access_token=REDACTED&author=REDACTED"
    )
    assert redaction.redact_url("https://h.test/a?q=1") == "https://h.test/a?q=1"


def test_secrets_are_scrubbed_everywhere_in_kept_values() -> None:
    secrets = redaction.secrets_of(
        "https://h.test/?token=tok-123456",
        {"Authorization": "Bearer bearer-abcdef", "X-Trace": "not-a-secret-value"},
        (KEY,),
    )
    kept = {
        "message": f"bad key {KEY}",
        "list": ["tok-123456", "Bearer bearer-abcdef"],
        "X-Trace": "not-a-secret-value",
    }
    scrubbed = redaction.scrub(kept, secrets)
    assert scrubbed == {
        "message": "bad key REDACTED",
        "list": ["REDACTED", "REDACTED"],
        "X-Trace": "not-a-secret-value",
    }
    assert redaction.secrets_of("https://h.test/", {"Api-Key": "abc"}) == ()  # too short


def test_allow_list_matches_scheme_host_port_and_path() -> None:
    allow = ("https://api.openai.com/v1/", "http://127.0.0.1:8080")
    assert allowed("https://api.openai.com/v1/chat/completions", allow)
    assert allowed("https://api.openai.com:443/v1/x", allow)
    assert allowed("http://127.0.0.1:8080/anything", allow)
    assert not allowed("https://api.openai.com.evil.test/v1/", allow)
    assert not allowed("https://api.openai.com/v2/", allow)
    assert not allowed("http://api.openai.com/v1/", allow)
    assert not allowed("http://127.0.0.1:8081/", allow)
    assert not allowed("https://api.openai.com@evil.test/v1/", allow)
    # Judged by the path the client sends: dot segments are resolved before the request.
    assert not allowed("https://api.openai.com/v1/../admin", allow)
    assert not allowed("https://api.openai.com/v1/%2e%2e/admin", allow)
    assert allowed("https://api.openai.com/v1/a/../chat", allow)
    assert allowed("https://anything.test/", ("https://",))
    assert not allowed("https://anything.test/", ())
