"""The flags of `dev` and `start`: the field each sets, its environment twins, its unit.

Declared once: the CLI builds its options from this table (cli/options.py), the config file
uses the same names, and Settings.load reads the same environment names. `INNGEST_FLAGS` holds
the flags of `inngest-cli dev` / `inngest start` that are not ours: each stands for flags of
ours, or is accepted and ignored with the reason logged at start-up.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["dev", "start"]
BOTH: frozenset[Mode] = frozenset(("dev", "start"))
START: frozenset[Mode] = frozenset(("start",))
DEV: frozenset[Mode] = frozenset(("dev",))
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
    "connect_gateway_port": Flag(
        "connect_gateway_port",
        ("MAINSPRING_CONNECT_GATEWAY_PORT", "INNGEST_CONNECT_GATEWAY_PORT"),
    ),
    "connect_gateway_url": Flag("connect_gateway_url", ("MAINSPRING_CONNECT_GATEWAY_URL",)),
    "db": Flag("db", ("MAINSPRING_DATABASE_URL", "MAINSPRING_DB", "INNGEST_POSTGRES_URI")),
    "durability": Flag("durability", ("MAINSPRING_DURABILITY",)),
    "environments": Flag("environments", ("MAINSPRING_ENVIRONMENTS",)),
    "branch_envs": Flag("branch_envs", ("MAINSPRING_BRANCH_ENVS",)),
    "branch_env_idle": Flag("branch_env_idle_s", ("MAINSPRING_BRANCH_ENV_IDLE",)),
    "max_branch_envs": Flag("max_branch_envs", ("MAINSPRING_MAX_BRANCH_ENVS",)),
    "no_discovery": Flag("discovery", ("MAINSPRING_NO_DISCOVERY",), DEV, negate=True),
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
    "max_event_bytes": Flag("max_event_bytes", ("MAINSPRING_MAX_EVENT_BYTES",)),
    "max_events_body_bytes": Flag("max_events_body_bytes", ("MAINSPRING_MAX_EVENTS_BODY_BYTES",)),
    "zombie_check_interval": Flag("zombie_check_interval_s", ("MAINSPRING_ZOMBIE_CHECK_INTERVAL",)),
    "zombie_grace": Flag("zombie_grace_s", ("MAINSPRING_ZOMBIE_GRACE",)),
    "endpoint_sync_timeout": Flag("endpoint_sync_timeout_s", ("MAINSPRING_ENDPOINT_SYNC_TIMEOUT",)),
    "header_timeout": Flag("header_timeout_s", ("MAINSPRING_HEADER_TIMEOUT",)),
    "keep_alive_timeout": Flag("keep_alive_s", ("MAINSPRING_KEEP_ALIVE_TIMEOUT",)),
    "max_connections": Flag("max_connections", ("MAINSPRING_MAX_CONNECTIONS",)),
    "log_level": Flag("log_level", ("MAINSPRING_LOG_LEVEL",)),
    "no_ui": Flag("ui", ("MAINSPRING_NO_UI",), negate=True),
    "signing_key": Flag("signing_key", ("MAINSPRING_SIGNING_KEY", "INNGEST_SIGNING_KEY"), START),
    "signing_key_fallback": Flag(
        "signing_key_fallback",
        ("MAINSPRING_SIGNING_KEY_FALLBACK", "INNGEST_SIGNING_KEY_FALLBACK"),
        START,
    ),
    "env_signing_keys": Flag("env_signing_keys", ("MAINSPRING_ENV_SIGNING_KEYS",), START),
    "event_keys": Flag("event_keys", ("MAINSPRING_EVENT_KEY", "INNGEST_EVENT_KEY"), START),
    "verify_responses": Flag("verify_responses", ("MAINSPRING_VERIFY_RESPONSES",), START),
    "app_url_allow": Flag("app_url_allow", ("MAINSPRING_APP_URL_ALLOW",), START),
    "session_ttl": Flag("session_ttl_s", ("MAINSPRING_SESSION_TTL",), START),
    "max_reply_bytes": Flag("max_reply_bytes", ("MAINSPRING_MAX_REPLY_BYTES",), START),
    "egress_allow": Flag("egress_allow", ("MAINSPRING_EGRESS_ALLOW",), START),
    "egress_timeout": Flag("egress_timeout_s", ("MAINSPRING_EGRESS_TIMEOUT",)),
    "egress_max_bytes": Flag("egress_max_bytes", ("MAINSPRING_EGRESS_MAX_BYTES",)),
    "otel_endpoint": Flag("otel_endpoint", ("MAINSPRING_OTEL_ENDPOINT",)),
    "otel_metrics": Flag("otel_metrics", ("MAINSPRING_OTEL_METRICS",)),
}


@dataclass(frozen=True, slots=True)
class InngestFlag:
    """A flag of inngest-cli's that is not one of ours: the flags of ours it stands for (each
    only where the user did not give that flag too), or why it means nothing here."""

    kind: type[int] | type[str] | type[bool]
    sets: Callable[[Any, Mode], dict[str, Any]] | None = None
    ignored: str = ""  # the reason, logged at start-up when the flag is given
    modes: frozenset[Mode] = BOTH
    minimum: int | None = None


SQLITE_FILE: dict[Mode, str] = {"dev": "dev.db", "start": "mainspring.db"}


def _fixed_backoff(seconds: Any, mode: Mode) -> dict[str, Any]:
    """inngest-cli's fixed interval between retries (0, its default, keeps our backoff)."""
    return {"backoff_base": seconds, "backoff_max": seconds} if seconds else {}


def _sqlite_in(directory: Any, mode: Mode) -> dict[str, Any]:
    return {"db": posixpath.join(str(directory), SQLITE_FILE[mode])}


_CONNECT = "the Connect gateway is served on --connect-gateway-port; it has no gRPC side"
_PG_POOL = "each process keeps a fixed few PostgreSQL connections (writers, reader, LISTEN)"
_TRACES = "runs' traces go out over OTLP with --otel-endpoint (see the README, Observability)"

INNGEST_FLAGS: dict[str, InngestFlag] = {
    "retry_interval": InngestFlag(int, _fixed_backoff, minimum=0),
    "queue_workers": InngestFlag(int, lambda n, _: {"max_in_flight": n}, minimum=1),
    "sqlite_dir": InngestFlag(str, _sqlite_in),
    "verbose": InngestFlag(bool, lambda on, _: {"log_level": "debug"} if on else {}),
    "tick": InngestFlag(int, ignored="the queue wakes on new work; it has no poll tick"),
    "persist": InngestFlag(bool, ignored="state is always kept in --db", modes=DEV),
    "in_memory": InngestFlag(bool, ignored="state is always kept in --db", modes=DEV),
    "json": InngestFlag(bool, ignored="log lines are plain text"),
    "redis_uri": InngestFlag(str, ignored="queue and run state live in --db; no Redis"),
    "connect_gateway_grpc_port": InngestFlag(int, ignored=_CONNECT),
    "connect_executor_grpc_port": InngestFlag(int, ignored=_CONNECT),
    "connect_gateway_grpc_ip": InngestFlag(str, ignored=_CONNECT),
    "connect_executor_grpc_ip": InngestFlag(str, ignored=_CONNECT),
    "postgres_max_idle_conns": InngestFlag(int, ignored=_PG_POOL),
    "postgres_max_open_conns": InngestFlag(int, ignored=_PG_POOL),
    "postgres_conn_max_idle_time": InngestFlag(int, ignored=_PG_POOL),
    "postgres_conn_max_lifetime": InngestFlag(int, ignored=_PG_POOL),
    "debug_api_port": InngestFlag(int, ignored="no debug API; see /health, /metrics", modes=DEV),
    "system_trace_endpoint": InngestFlag(str, ignored=_TRACES, modes=DEV),
    "system_trace_url_path": InngestFlag(str, ignored=_TRACES, modes=DEV),
}


def spelling(name: str) -> str:
    return "--" + name.replace("_", "-")


def from_inngest(values: Mapping[str, Any], mode: Mode) -> dict[str, Any]:
    """`values` (keyed by flag name) with each inngest-cli flag replaced by the flags of ours
    it stands for; a flag of ours given as well wins."""
    ours = {name: value for name, value in values.items() if name not in INNGEST_FLAGS}
    for name, value in values.items():
        flag = INNGEST_FLAGS.get(name)
        if flag is None or flag.sets is None or mode not in flag.modes or value is None:
            continue
        for target, target_value in flag.sets(value, mode).items():
            if ours.get(target) is None:
                ours[target] = target_value
    return ours


def ignored_notes(values: Mapping[str, Any], mode: Mode) -> list[str]:
    """One line per inngest-cli flag given that means nothing here, saying why."""
    return [
        f"{spelling(name)} (an inngest-cli flag) is accepted and ignored: {flag.ignored}"
        for name, flag in INNGEST_FLAGS.items()
        if flag.ignored and mode in flag.modes and _given(values.get(name))
    ]


def _given(value: Any) -> bool:
    return value is not None and value is not False  # a bool flag left off is False


def env_names(names: tuple[str, ...], mode: Mode) -> tuple[str, ...]:
    """`dev` reads only MAINSPRING_* (it never read the INNGEST_* twins `start` accepts)."""
    return names if mode == "start" else tuple(n for n in names if n.startswith("MAINSPRING_"))


def is_true(raw: str) -> bool:
    return raw.strip().lower() in _TRUE


def flag_fields(values: Mapping[str, Any], mode: Mode) -> dict[str, Any]:
    """Flag values (keyed by flag name, in the flag's unit) as Settings fields; inngest-cli
    flags become the flags of ours they stand for. Flags `mode` does not have, and values left
    unset (None), are dropped."""
    fields: dict[str, Any] = {}
    for name, value in from_inngest(values, mode).items():
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
