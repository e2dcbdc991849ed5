"""The least a Python HTTP server can do per request: a bare ASGI app under uvicorn (httptools,
uvloop, access log off) that reads the body and answers a fixed 2-byte JSON. bench_core.py
--floor measures its CPU per request beside Mainspring's CPU per step.

    .venv/bin/python bench/apps/echo_asgi.py --port 3000
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"2")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b"{}"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
