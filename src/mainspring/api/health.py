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
from mainspring.api.state import Services, environments, services

DATABASE_PROBE_S = 1.5


async def health(request: Request) -> Response:
    app = services(request)
    problems, components = app.supervisor.check()
    reasons = [str(problem) for problem in problems]
    others = _other_environments(request, app, components)
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
            **others,
            "components": components,
            "database_work": app.connector.stats(),
        },
        status_code=status,
    )


def _other_environments(
    request: Request, app: Services, components: dict[str, dict[str, object]]
) -> dict[str, object]:
    """The process's other environments, beside the request's: their problems are reported
    but do not make this answer 503 (a broken preview must not pull production out of a load
    balancer). Their names only in dev mode: in production /health is public, and branch
    names are an app's git branches."""
    every = environments(request)
    if not every.config.enabled:
        return {}
    problems: dict[str, list[str]] = {}
    for name, other in every.all_services():
        if other is not app:
            more, report = other.supervisor.check()
            if more:
                problems[name] = [str(problem) for problem in more]
            if not app.settings.production:
                components.update({f"{name}/{key}": value for key, value in report.items()})
    for name, why in every.failed.items():
        problems.setdefault(name, []).append(f"cannot be opened: {why}")
    if app.settings.production:
        return {"environments": {"served": len(every.served()), "with_problems": len(problems)}}
    return {"environments": {"served": every.served(), "problems": problems}}


routes = [Route("/health", health, methods=["GET"])]
