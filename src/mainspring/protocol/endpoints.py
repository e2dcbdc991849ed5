"""Durable endpoints on the wire (TypeScript SDK v4 `inngest.endpoint(...)`; pure, no I/O).

An endpoint is an ordinary HTTP handler of the app. It runs its steps inside the user's request
("sync mode") and reports them to us: `POST /v1/checkpoint` starts the run (its trigger is an
`inngest/http.request` event describing the request), `POST /v1/checkpoint/{run}/steps` adds
steps, a `RunComplete` op ends it with the handler's response. When a step must wait or retry,
the SDK answers its caller with a redirect to `/v1/http/runs/{run}/output?token=` and we carry
on: the run is continued by replaying the original request at its URL (`EndpointCall`), with
`X-Run-ID` and a signature, which the SDK recognises as ours ("async mode").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from ulid import ULID

from mainspring import errors
from mainspring.protocol import signing

HTTP_REQUEST = "inngest/http.request"
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 256
# Headers of the handler's response that describe the original connection, not the body.
_HOP_BY_HOP = frozenset(
    {"connection", "content-length", "keep-alive", "transfer-encoding", "content-encoding"}
)


@dataclass(frozen=True, slots=True)
class NewRun:
    """`POST /v1/checkpoint`: a run the app started in a request of its own."""

    run_id: str
    event: dict[str, Any]
    steps: list[Any]
    retries: int | None
    request_version: int


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What the `inngest/http.request` event says about the endpoint."""

    domain: str  # scheme://host[:port]
    method: str
    path: str
    name: str  # the function's display name: the SDK's function id, or "METHOD /path"

    @property
    def url(self) -> str:
        return self.domain + self.path

    @property
    def slug(self) -> str:
        """A URL-safe, per-host function slug: `127-0-0-1-3000-get-api-report`."""
        host = urlsplit(self.domain).netloc
        return _SLUG_JUNK.sub("-", f"{host} {self.name}".lower()).strip("-")[:MAX_SLUG]


@dataclass(frozen=True, slots=True)
class EndpointCall:
    """The request that continues an endpoint's run: the original one, replayed."""

    method: str
    url: str
    body: bytes
    content_type: str

    def signed_message(self) -> bytes:
        """What the SDK verifies our signature against: the canonical JSON of the body of a POST
        or PUT (it parses, then canonicalizes), else nothing. A body that is not JSON cannot be
        verified by the SDK at all; it is signed as nothing."""
        if self.method not in ("POST", "PUT") or not self.body.strip():
            return b""
        try:
            return signing.canonical(orjson.loads(self.body))
        except orjson.JSONDecodeError:
            return b""


def _fail(message: str, field: str) -> errors.InvalidInput:
    return errors.InvalidInput(message, field=field)


def parse_new_run(body: Any) -> NewRun:
    """Validate `POST /v1/checkpoint`; raises InvalidInput naming the field."""
    if not isinstance(body, dict):
        raise _fail("the body must be a JSON object", "body")
    run_id = body.get("run_id")
    if not isinstance(run_id, str) or not _is_ulid(run_id):
        raise _fail("run_id must be a ULID", "run_id")
    event = body.get("event")
    if not isinstance(event, dict) or event.get("name") != HTTP_REQUEST:
        raise _fail(f"event must be an {HTTP_REQUEST} event", "event")
    endpoint_of(event)  # raises when the request it describes is unusable
    steps = body.get("steps")
    retries = body.get("retries")
    version = body.get("request_version")
    return NewRun(
        run_id=run_id,
        event=event,
        steps=steps if isinstance(steps, list) else [],
        retries=retries if isinstance(retries, int) and not isinstance(retries, bool) else None,
        request_version=version if isinstance(version, int) and version > 0 else -1,
    )


def _is_ulid(text: str) -> bool:
    try:
        ULID.from_str(text)
    except ValueError:
        return False
    return True


def endpoint_of(event: dict[str, Any]) -> Endpoint:
    """The endpoint an `inngest/http.request` event describes; raises InvalidInput."""
    data = event.get("data")
    if not isinstance(data, dict):
        raise _fail("event.data must be an object", "event.data")
    domain = data.get("domain")
    parts = urlsplit(domain) if isinstance(domain, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail("event.data.domain must be http(s)://host", "event.data.domain")
    method = str(data.get("method") or "POST").upper()
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise _fail("event.data.path must start with /", "event.data.path")
    fn = data.get("fn")
    name = fn if isinstance(fn, str) and fn else f"{method} {path}"
    return Endpoint(domain=f"{parts.scheme}://{parts.netloc}", method=method, path=path, name=name)


def call_of(event: dict[str, Any]) -> EndpointCall:
    """The request replaying the one an `inngest/http.request` event recorded (Go's httpv2
    driver does the same: method, URL with the query, body and content type)."""
    endpoint = endpoint_of(event)
    data = event["data"]
    query = data.get("query_params")
    url = endpoint.url + (f"?{query}" if isinstance(query, str) and query else "")
    body = data.get("body")
    raw = body.encode() if isinstance(body, str) else b"" if body is None else orjson.dumps(body)
    content_type = data.get("content_type")
    return EndpointCall(
        method=endpoint.method,
        url=url,
        body=raw,
        content_type=content_type if isinstance(content_type, str) and content_type else "",
    )


@dataclass(frozen=True, slots=True)
class Response:
    """The handler's response as the run's output holds it (`{status, headers, body}`)."""

    status: int
    headers: dict[str, str]
    body: bytes


def response_of(output: Any) -> Response | None:
    """The SDK's `RunComplete` data of an endpoint is its HTTP response; None for other output."""
    if not isinstance(output, dict):
        return None
    status, body = output.get("status"), output.get("body")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    headers = output.get("headers") if isinstance(output.get("headers"), dict) else {}
    kept = {
        str(key): str(value)
        for key, value in (headers or {}).items()
        if str(key).lower() not in _HOP_BY_HOP
    }
    text = body if isinstance(body, str) else "" if body is None else orjson.dumps(body).decode()
    return Response(status=status, headers=kept, body=text.encode())
