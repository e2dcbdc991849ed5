"""Settings fields taken from the flags `mainspring dev` and `mainspring start` share."""

from __future__ import annotations

from typing import Any


def shared_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The Settings fields `dev` and `start` take from the flags they share."""
    return {
        "host": options["host"],
        "port": options["port"],
        "db": options["db"],
        "sdk_urls": tuple(options["sdk_urls"]),
        "poll": not options["no_poll"],
        "poll_interval_s": options["poll_interval"],
        "backoff_base_ms": int(options["backoff_base"] * 1000),
        "backoff_max_ms": int(options["backoff_max"] * 1000),
        "call_timeout_s": options["call_timeout"],
        "max_in_flight": options["max_in_flight"],
        "shutdown_timeout_s": options["shutdown_timeout"],
        "state_limit": options["state_limit"],
        "max_body_bytes": options["max_body_bytes"],
        "lease_ms": int(options["lease_seconds"] * 1000),
        "zombie_check_interval_s": options["zombie_check_interval"],
        "zombie_grace_s": options["zombie_grace"],
        "header_timeout_s": options["header_timeout"],
        "keep_alive_s": options["keep_alive_timeout"],
        "max_connections": options["max_connections"],
    }
