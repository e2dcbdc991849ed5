"""Reading request bodies with a size limit, before anything is parsed."""

from __future__ import annotations

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
