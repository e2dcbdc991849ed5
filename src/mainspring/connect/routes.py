"""How a function of a connected app is addressed: its step URL is `wss://connect/<app>?fnId=…`
(the SDK sends `wss://connect?fnId=…`; the app's name is added at sync), so a call knows which
app's workers to ask, and an HTTP URL never looks like one."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlsplit

SCHEME_PREFIX = "wss://connect"


def app_url(app_name: str) -> str:
    return f"{SCHEME_PREFIX}/{quote(app_name, safe='')}"


def function_url(app_name: str, sdk_url: str) -> str:
    query = urlsplit(sdk_url).query
    return app_url(app_name) + (f"?{query}" if query else "")


def is_connect(url: str) -> bool:
    return url.startswith(SCHEME_PREFIX + "/")


def target(url: str) -> tuple[str, str]:
    """(app name, the SDK's function id) of a connect function URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return unquote(parts.path.lstrip("/")), query.get("fnId", "")
