"""Secrets of a server-side request, kept out of everything we store, show or log.

A `step.fetch` or `step.ai.infer` request carries credentials: the AI provider's key (`auth_key`,
sent as a header or, for Gemini, as `?key=`), and whatever headers or query parameters the user
put in. History, errors and the dashboard get the URL with secret query values and userinfo
replaced (`redact_url`), and any text we keep is scrubbed of the secret values themselves
(`scrub`), so a provider echoing the key in an error body cannot leak it either. Secrets in a URL
*path* (a bot token as a path segment) cannot be told apart from data and are not redacted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

REDACTED = "REDACTED"
# Header and query parameter names whose values are credentials (matched as substrings).
_SECRET_PARTS = ("key", "token", "secret", "password", "passwd", "signature", "auth", "credential")
_SECRET_NAMES = frozenset({"sig", "cookie", "set-cookie"})
# Shorter values are too likely to occur in ordinary text to be replaced everywhere.
MIN_SECRET_LENGTH = 6


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(part in lowered for part in _SECRET_PARTS)


def redact_url(url: str) -> str:
    """`url` with the values of secret-looking query parameters and any password replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
    query = "&".join(_redacted_pair(piece) for piece in parts.query.split("&") if piece)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _redacted_pair(piece: str) -> str:
    name, sep, _value = piece.partition("=")
    return f"{name}={REDACTED}" if sep and is_secret_name(name) else piece


def secrets_of(url: str, headers: Mapping[str, str], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The values to scrub: `extra` (an auth key), secret header values (and the credential
    after `Bearer `), secret query values and a URL password."""
    found = [*extra]
    for name, value in headers.items():
        if is_secret_name(name):
            found.append(value)
            found.append(value.rsplit(" ", 1)[-1])
    try:
        parts = urlsplit(url)
        found.extend(v for k, v in parse_qsl(parts.query) if is_secret_name(k))
        if parts.password:
            found.append(parts.password)
    except ValueError:
        pass
    unique = {value for value in found if len(value) >= MIN_SECRET_LENGTH}
    return tuple(sorted(unique, key=len, reverse=True))  # longest first: no partial leftovers


def scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    """`value` (JSON-like) with every secret replaced in its strings, keys included."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {scrub(k, secrets): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    return value
