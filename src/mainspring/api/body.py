"""Reading request bodies with a size limit, before anything is parsed."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from mainspring import errors


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise errors.PayloadTooLarge(f"body larger than {limit} bytes", field="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.PayloadTooLarge(f"body larger than {limit} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


_NO_DEFAULT: Any = object()


async def read_json(request: Request, limit: int, *, empty: Any = _NO_DEFAULT) -> Any:
    """The body parsed as JSON, read within `limit` bytes; `empty` stands for a blank body when
    given. Raises PayloadTooLarge or InvalidInput, both naming the field `body`."""
    raw = await read_limited(request, limit)
    if empty is not _NO_DEFAULT and not raw.strip():
        return empty
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.InvalidInput("body is not valid JSON", field="body") from None
