"""Jinja2 environment of the dashboard: templates, filters, and the context every page gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from mainspring.dashboard import environment
from mainspring.dashboard.views import human_ms
from mainspring.domain.durations import rfc3339

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def _short(value: Any) -> str:
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return text if len(text) <= 120 else text[:117] + "…"


def _when(value: Any) -> str:
    """RFC 3339 (or epoch ms) as `YYYY-MM-DD HH:MM:SS.mmm` UTC."""
    if isinstance(value, int):
        value = rfc3339(value)
    if not value:
        return "—"
    return str(value).replace("T", " ").removesuffix("Z")


def _percent(value: Any) -> str:
    """A 0..1 ratio as `97.5 %`; `—` when there is none."""
    return "—" if value is None else f"{100 * float(value):.1f} %"


templates.env.filters["pretty"] = _pretty
templates.env.filters["percent"] = _percent
templates.env.filters["short"] = _short
templates.env.filters["ms"] = human_ms
templates.env.filters["when"] = _when


def page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render `name` with the shared context (CSRF token from issue 8's middleware, if any;
    the environment switcher's, when environments are on)."""
    full = {
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "path": request.url.path,
        **environment.header(request),
        **context,
    }
    response: HTMLResponse = templates.TemplateResponse(
        request, name, full, status_code=status_code
    )
    return response
