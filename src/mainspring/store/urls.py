"""Database URLs as they may be shown: in logs, errors and `/health`."""

from __future__ import annotations


def redact_url(url: str) -> str:
    """A database URL fit for logs: the password, if any, is masked."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        masked = f"{user}:***" if ":" in credentials else user
        return f"{scheme}{sep}{masked}@{host}"
    return url
