"""`POST /v1/signals {signal, data}`: resume the run waiting for that signal (`step.waitForSignal`).

What the SDKs' `sendSignal` (and `step.sendSignal`) call. 200 `{data: {run_id}}`; 404 when no run
waits for the name (the TypeScript SDK reads that as "nobody resumed"); 400 names the bad field.
In production it takes an API token, or the signing key as the SDKs send it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import errors
from mainspring.api.body import read_json
from mainspring.api.errors import invalid_input, not_found
from mainspring.api.rest import envelope
from mainspring.api.state import services
from mainspring.ingest import signals


async def send_signal(request: Request) -> Response:
    app = services(request)
    try:
        body = await read_json(request, app.settings.max_body_bytes)
        signal = signals.parse(body)
    except errors.InvalidInput as exc:
        return invalid_input(exc)
    run_id = await app.ingest.run_unit(signals.resume_unit(signal, app.clock()))
    if run_id is None:
        return not_found(f"no run is waiting for signal {signal.name!r}")
    return envelope(request, {"run_id": run_id})


routes = [Route("/v1/signals", send_signal, methods=["POST"])]
