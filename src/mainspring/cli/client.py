"""The client commands' one way to the server: its public REST API over httpx, with the
server's answers turned into exit codes (documented in the README, "Command line")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8288"
TIMEOUT_S = 30.0


def segment(value: str) -> str:
    """An id as one path segment: a `/`, `?` or `#` in it cannot reach another route."""
    return quote(value, safe="")


# Exit codes: what a script may rely on.
OK = 0
FAILED = 1  # the server refused or failed the action (409, 5xx, …)
USAGE = 2  # bad flags or input, ours or as the server judged it (400)
NOT_FOUND = 3  # no such run, function or event
UNAUTHORIZED = 4  # missing, wrong or too weak a token (401, 403)
UNREACHABLE = 5  # no answer from the server

_BY_STATUS = {400: USAGE, 404: NOT_FOUND, 401: UNAUTHORIZED, 403: UNAUTHORIZED}


class ApiError(Exception):
    """An answer other than 2xx, or none: its message, with the field the server named;
    `mainspring` prints it as one line and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def _refusal(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("error") if isinstance(body, dict) else None
    # One line: a CEL error, say, marks its position on a second line.
    text = " ".join(str(message or response.reason_phrase or "request failed").split())
    field = body.get("field") if isinstance(body, dict) else None
    if field:
        text = f"{text} (field {field})"
    code = _BY_STATUS.get(response.status_code, FAILED)
    return ApiError(f"{response.status_code}: {text}", code)


ENV_HEADER = "X-Inngest-Env"  # the header the SDKs send from INNGEST_ENV; the server's choice


class Client:
    """Calls one server as one operator (bearer token, when given), in one of its environments
    (`env`, sent on every request; the server's default environment when None)."""

    def __init__(self, url: str, token: str | None, env: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if env:
            headers[ENV_HEADER] = env
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT_S)

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The answer's JSON; raises ApiError for anything but 2xx."""
        kept = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            response = self._http.request(
                method, path, params=kept, json=body, headers=dict(headers or {})
            )
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach {self.url}: {exc}", UNREACHABLE) from None
        if not response.is_success:
            raise _refusal(response)
        return response.json() if response.content else None

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        """`call`, unwrapped from the `{data, metadata}` envelope."""
        return self.call(method, path, **kwargs)["data"]
