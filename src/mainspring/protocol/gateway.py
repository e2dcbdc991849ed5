"""Server-side requests the SDKs ask for (pure): `step.fetch` (opcode `Gateway`, opts
`{url, method, headers, body}`) and `step.ai.infer` (opcode `AIGateway`, opts `{type, url,
headers, auth_key, format, body}`).

From an opcode's opts, the request to send (provider auth per `format`, as Inngest's
`pkg/util/aigateway` adds it); from a response, what the SDK expects memoized (the TS SDK rebuilds
a `Response` from `{url, status_code, headers, body}`; `step.ai.infer` gets the provider's JSON).
Header names go out in Go's canonical form (`X-Api-Key`), as Inngest sends them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from mainspring import codec
from mainspring.protocol import redaction

FETCH_OP = "Gateway"
AI_OP = "AIGateway"
GATEWAY_OPS = frozenset({FETCH_OP, AI_OP})
ANTHROPIC_VERSION = "2023-06-01"  # what the SDKs' Anthropic adapters send by default
USER_AGENT = "Mainspring"
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Methods fetch() normalises to upper case; others are sent as given.
_NORMALISED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
# Framing headers are the client library's business, not the caller's.
_DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class InvalidRequest(ValueError):
    """The opts cannot make a request (no http(s) URL, a bad method or header): not retried."""


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """What to send. Only `shown_url` and `method` may be stored or shown; `secrets` are the
    values to scrub from anything kept."""

    kind: str  # FETCH_OP | AI_OP
    method: str
    url: str = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    body: bytes | None = field(repr=False)
    shown_url: str
    secrets: tuple[str, ...] = field(repr=False)
    ai_format: str | None = None


def canonical_header(name: str) -> str:
    """Go's CanonicalMIMEHeaderKey: `x-api-key` → `X-Api-Key` (names with other characters
    are left alone, as Go does)."""
    if not _TOKEN.match(name):
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def request_from(op: str, opts: dict[str, Any]) -> OutgoingRequest:
    """The request an opcode's opts describe; InvalidRequest when they cannot make one."""
    return ai_request(opts) if op == AI_OP else fetch_request(opts)


def fetch_request(opts: dict[str, Any]) -> OutgoingRequest:
    url = _http_url(opts.get("url"))
    method = str(opts.get("method") or "GET")
    if not _TOKEN.match(method):
        raise InvalidRequest(f"invalid HTTP method {method!r}")
    if method.upper() in _NORMALISED_METHODS:
        method = method.upper()
    headers = _headers({}, opts.get("headers"))
    body = opts.get("body")
    raw = None if body is None else body.encode() if isinstance(body, str) else codec.dumpb(body)
    return _outgoing(FETCH_OP, method, url, headers, raw)


def ai_request(opts: dict[str, Any]) -> OutgoingRequest:
    url = _http_url(opts.get("url"))
    fmt = str(opts.get("format") or "openai-chat")
    key = str(opts.get("auth_key") or "")
    auth: dict[str, str] = {"Content-Type": "application/json"}
    if key:
        url = _with_auth(fmt, key, url, auth)
    if fmt == "anthropic":
        auth["Anthropic-Version"] = ANTHROPIC_VERSION  # replaced by the SDK's own, if given
    headers = _headers(auth, opts.get("headers"))
    body = opts.get("body")
    raw = body.encode() if isinstance(body, str) else codec.dumpb(body if body is not None else {})
    return _outgoing(AI_OP, "POST", url, headers, raw, fmt, extra_secrets=(key,))


def _with_auth(fmt: str, key: str, url: str, headers: dict[str, str]) -> str:
    """The provider's credential: a header, or Gemini's `key` query parameter."""
    if fmt == "gemini":
        if "key" not in dict(parse_qsl(urlsplit(url).query)):
            url += ("&" if urlsplit(url).query else "?") + f"key={quote(key, safe='')}"
    elif fmt == "anthropic":
        headers["X-Api-Key"] = key
    elif fmt == "azure-openai":
        headers["Api-Key"] = key  # Azure reads a Bearer token as an Entra ID token
    elif fmt == "bedrock":
        headers["Authorization"] = key  # already a signed AWS authorization value
    else:  # openai-chat and every OpenAI-compatible format (grok, deepseek, …)
        headers["Authorization"] = f"Bearer {key}"
    return url


def _http_url(value: Any) -> str:
    url = str(value or "")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"not an http(s) URL: {redaction.redact_url(url)!r}")
    return url


def _headers(base: dict[str, str], given: Any) -> dict[str, str]:
    """`base`, then the caller's headers (which win), canonical names, framing headers dropped."""
    merged = {canonical_header(name): value for name, value in base.items()}
    for name, value in given.items() if isinstance(given, dict) else ():
        if not _TOKEN.match(str(name)) or "\n" in str(value) or "\r" in str(value):
            raise InvalidRequest(f"invalid header {str(name)!r}")
        if str(name).lower() not in _DROPPED_HEADERS:
            merged[canonical_header(str(name))] = str(value)
    merged.setdefault("User-Agent", USER_AGENT)
    return merged


def _outgoing(
    kind: str,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    ai_format: str | None = None,
    *,
    extra_secrets: tuple[str, ...] = (),
) -> OutgoingRequest:
    return OutgoingRequest(
        kind=kind,
        method=method,
        url=url,
        headers=headers,
        body=body,
        shown_url=redaction.redact_url(url),
        secrets=redaction.secrets_of(url, headers, extra_secrets),
        ai_format=ai_format,
    )


def response_headers(pairs: list[tuple[str, str]], decoded: bool) -> dict[str, str]:
    """Response headers as Inngest memoizes them: canonical names, repeated ones joined with
    `,`. When the client decoded a compressed body, its encoding and length no longer apply."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = canonical_header(name)
        if decoded and key in ("Content-Encoding", "Content-Length"):
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers


# Statuses whose Response may not have a body (the TS SDK's `new Response(body, …)` throws).
NULL_BODY_STATUSES = frozenset({101, 103, 204, 205, 304})


def fetch_memo(shown_url: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    """`step.fetch`'s result: `{data: {url, status_code, headers, body}}` (body as text)."""
    text = None if status in NULL_BODY_STATUSES else body.decode(errors="replace")
    return {"data": {"url": shown_url, "status_code": status, "headers": headers, "body": text}}
