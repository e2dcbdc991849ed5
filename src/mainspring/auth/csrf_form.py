"""Reading the `csrf_token` field of a dashboard form without consuming the body for the route."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.types import Message, Receive

MAX_FORM_BYTES = 1024 * 1024


async def buffer(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (up to MAX_FORM_BYTES: a larger form is not a dashboard form), and a
    `receive` that replays it to the route."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            chunks = []
            break
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def field(content_type: str, body: bytes) -> str | None:
    """`csrf_token` from an urlencoded form (multipart forms must send the X-CSRF-Token header)."""
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return None
    values = parse_qs(body.decode(errors="replace")).get("csrf_token")
    return values[0] if values else None
