"""`POST /v1/traces/userland`: an app's OpenTelemetry spans (OTLP/JSON or protobuf), as the
TypeScript SDK's extended-traces middleware exports them, stored under their run and step.

The answer is OTLP's `ExportTraceServiceResponse` in JSON (`partialSuccess` counts spans of no
known run); a body past 8 MiB, or spans that would take a run past its cap, get 413, a body that
is not an OTLP export 400, both as our JSON error naming the field.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.body import read_limited
from mainspring.api.errors import JSONResponse, invalid_input
from mainspring.api.state import services
from mainspring.protocol import otlp
from mainspring.runs import userland


async def userland_traces(request: Request) -> Response:
    app = services(request)
    try:
        body = await read_limited(request, userland.MAX_BODY_BYTES)
        try:
            spans = otlp.decode(body, request.headers.get("content-type", ""))
        except otlp.Malformed as exc:
            raise errors.InvalidInput(str(exc), field="body") from None
        result = await userland.store(app.connector, spans, app.clock())
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    answer: dict[str, Any] = {}
    if result.rejected:
        answer["partialSuccess"] = {
            "rejectedSpans": result.rejected,
            "errorMessage": "spans without a known run (sdk.run.id) were dropped",
        }
    return JSONResponse(answer)


routes = [Route("/v1/traces/userland", userland_traces, methods=["POST"])]
