"""The flags of `dev` and `start`: the field each sets, its environment twins, its unit.

Declared once: the CLI builds its options from this table (cli/options.py), the config file
uses the same names, and Settings.load reads the same environment names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["dev", "start"]
BOTH: frozenset[Mode] = frozenset(("dev", "start"))
START: frozenset[Mode] = frozenset(("start",))
CONFIG_ENV = ("MAINSPRING_CONFIG", "INNGEST_CONFIG")
_TRUE = {"1", "true", "t", "yes", "y", "on"}  # what click accepts as a true flag value


@dataclass(frozen=True, slots=True)
class Flag:
    field: str
    env: tuple[str, ...]
    modes: frozenset[Mode] = BOTH
    scale: int = 1  # the flag speaks seconds, the field milliseconds
    negate: bool = False  # `--no-poll` sets poll=False


def _ms(field: str, env: str) -> Flag:
    return Flag(field, (env,), scale=1000)


FLAGS: dict[str, Flag] = {
    "sdk_urls": Flag("sdk_urls", ("MAINSPRING_SDK_URL", "INNGEST_SDK_URL")),
    "port": Flag("port", ("MAINSPRING_PORT", "INNGEST_PORT")),
    "host": Flag("host", ("MAINSPRING_HOST", "INNGEST_HOST")),
    "db": Flag("db", ("MAINSPRING_DATABASE_URL", "MAINSPRING_DB", "INNGEST_POSTGRES_URI")),
    "no_discovery": Flag(
        "discovery", ("MAINSPRING_NO_DISCOVERY",), frozenset(("dev",)), negate=True
    ),
    "no_poll": Flag("poll", ("MAINSPRING_NO_POLL",), negate=True),
    "poll_interval": Flag("poll_interval_s", ("MAINSPRING_POLL_INTERVAL",)),
    "lease_seconds": _ms("lease_ms", "MAINSPRING_LEASE_SECONDS"),
    "backoff_base": _ms("backoff_base_ms", "MAINSPRING_BACKOFF_BASE"),
    "backoff_max": _ms("backoff_max_ms", "MAINSPRING_BACKOFF_MAX"),
    "call_timeout": Flag("call_timeout_s", ("MAINSPRING_CALL_TIMEOUT",)),
    "max_in_flight": Flag("max_in_flight", ("MAINSPRING_MAX_IN_FLIGHT",)),
    "shutdown_timeout": Flag("shutdown_timeout_s", ("MAINSPRING_SHUTDOWN_TIMEOUT",)),
    "state_limit": Flag("state_limit", ("MAINSPRING_STATE_LIMIT",)),
    "max_body_bytes": Flag("max_body_bytes", ("MAINSPRING_MAX_BODY_BYTES",)),
    "zombie_check_interval": Flag("zombie_check_interval_s", ("MAINSPRING_ZOMBIE_CHECK_INTERVAL",)),
    "zombie_grace": Flag("zombie_grace_s", ("MAINSPRING_ZOMBIE_GRACE",)),
    "header_timeout": Flag("header_timeout_s", ("MAINSPRING_HEADER_TIMEOUT",)),
    "keep_alive_timeout": Flag("keep_alive_s", ("MAINSPRING_KEEP_ALIVE_TIMEOUT",)),
    "max_connections": Flag("max_connections", ("MAINSPRING_MAX_CONNECTIONS",)),
    "signing_key": Flag("signing_key", ("MAINSPRING_SIGNING_KEY", "INNGEST_SIGNING_KEY"), START),
    "signing_key_fallback": Flag(
        "signing_key_fallback",
        ("MAINSPRING_SIGNING_KEY_FALLBACK", "INNGEST_SIGNING_KEY_FALLBACK"),
        START,
    ),
    "event_keys": Flag("event_keys", ("MAINSPRING_EVENT_KEY", "INNGEST_EVENT_KEY"), START),
    "verify_responses": Flag("verify_responses", ("MAINSPRING_VERIFY_RESPONSES",), START),
    "app_url_allow": Flag("app_url_allow", ("MAINSPRING_APP_URL_ALLOW",), START),
    "session_ttl": Flag("session_ttl_s", ("MAINSPRING_SESSION_TTL",), START),
    "max_reply_bytes": Flag("max_reply_bytes", ("MAINSPRING_MAX_REPLY_BYTES",), START),
    "egress_allow": Flag("egress_allow", ("MAINSPRING_EGRESS_ALLOW",), START),
    "egress_timeout": Flag("egress_timeout_s", ("MAINSPRING_EGRESS_TIMEOUT",)),
    "egress_max_bytes": Flag("egress_max_bytes", ("MAINSPRING_EGRESS_MAX_BYTES",)),
}


def env_names(names: tuple[str, ...], mode: Mode) -> tuple[str, ...]:
    """`dev` reads only MAINSPRING_* (it never read the INNGEST_* twins `start` accepts)."""
    return names if mode == "start" else tuple(n for n in names if n.startswith("MAINSPRING_"))


def is_true(raw: str) -> bool:
    return raw.strip().lower() in _TRUE


def flag_fields(values: Mapping[str, Any], mode: Mode) -> dict[str, Any]:
    """Flag values (keyed by flag name, in the flag's unit) as Settings fields. Flags `mode`
    does not have, and values left unset (None), are dropped."""
    fields: dict[str, Any] = {}
    for name, value in values.items():
        flag = FLAGS.get(name)
        if flag is None or mode not in flag.modes or value is None:
            continue
        if flag.negate:
            value = not value
        elif flag.scale != 1:
            value = _scaled(value, flag.scale, name)
        fields[flag.field] = value
    return fields


def _scaled(value: Any, scale: int, name: str) -> Any:
    try:
        return int(float(value) * scale)
    except (TypeError, ValueError):
        return value  # left for validation, which names the field


def shared_settings(options: Mapping[str, Any]) -> dict[str, Any]:
    """The Settings fields that `dev` and `start` both take from the flags given."""
    shared = {name: value for name, value in options.items() if FLAGS.get(name, None)}
    return flag_fields({k: v for k, v in shared.items() if FLAGS[k].modes == BOTH}, "dev")
