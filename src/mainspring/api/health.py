"""`GET /health`: liveness plus a few numbers an operator wants first.

503 `degraded` whenever the database does not answer or any supervised component is down,
stalled past its deadline or no longer running, naming each, so a load balancer stops sending
work to a process that cannot do it. The answer never waits longer than `DATABASE_PROBE_S`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring.api.errors import JSONResponse
from mainspring.api.state import environments, services

DATABASE_PROBE_S = 1.5


async def health(request: Request) -> Response:
    app = services(request)
    problems, components = app.supervisor.check()
    reasons = [str(problem) for problem in problems]
    every = environments(request)
    for name, other in every.all_services():  # one process: a broken environment is its own
        if other is not app:
            more, report = other.supervisor.check()
            reasons += [f"environment {name!r}: {problem}" for problem in more]
            components.update({f"{name}/{key}": value for key, value in report.items()})
    if not await app.reads.database_ok(DATABASE_PROBE_S):
        reasons.insert(0, "database unavailable")
    elif not app.connector.healthy and not reasons:
        reasons.append("database connection lost; reconnecting")
    status = 503 if reasons else 200
    return JSONResponse(
        {
            "status": status,
            "message": "degraded: " + "; ".join(reasons) if reasons else "OK",
            "database": app.connector.dialect,
            "mode": app.settings.server_kind,
            "functions": len(app.registry.functions()),
            **({"environments": every.served()} if every.config.enabled else {}),
            "components": components,
            "database_work": app.connector.stats(),
        },
        status_code=status,
    )


routes = [Route("/health", health, methods=["GET"])]
