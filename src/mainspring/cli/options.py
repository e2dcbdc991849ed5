"""The options of `dev` and `start`, declared once.

Each row names a flag of `mainspring.settings.flags.FLAGS`; the field it sets gives the option
its type, bounds and default, the flag table its environment twins. A command takes the rows
its mode has, so `dev` and `start` cannot drift apart. The inngest-cli flags that are not ours
(`INNGEST_FLAGS`) follow, spelled as inngest-cli spells them; the ones ignored here are hidden
from `--help`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

import click
from click.core import ParameterSource
from pydantic.fields import FieldInfo

from mainspring.settings import MODE_DEFAULTS, Mode, Settings
from mainspring.settings.flags import (
    CONFIG_ENV,
    FLAGS,
    INNGEST_FLAGS,
    Flag,
    InngestFlag,
    env_names,
    spelling,
)


@dataclass(frozen=True, slots=True)
class Row:
    flag: str  # a key of FLAGS
    spellings: tuple[str, ...]
    help: str | None = None


ROWS = (
    Row(
        "signing_key",
        ("--signing-key",),
        "Hex; never logged.",
    ),
    Row(
        "signing_key_fallback",
        ("--signing-key-fallback",),
        "The previous signing key, accepted during a rotation.",
    ),
    Row(
        "env_signing_keys",
        ("--env-signing-key",),
        "NAME=KEY: an environment's own signing key (`*=KEY` for every branch environment); "
        "better given as MAINSPRING_ENV_SIGNING_KEYS (space-separated) than on a command line.",
    ),
    Row("event_keys", ("--event-key",), "An event key senders may use (repeatable)."),
    Row("sdk_urls", ("-u", "--sdk-url"), "URL of an app's serve endpoint to sync (repeatable)."),
    Row("port", ("-p", "--port")),
    Row("host", ("--host",)),
    Row(
        "connect_gateway_port",
        ("--connect-gateway-port",),
        "Port of the Connect gateway (SDK workers dial in over WebSocket).",
    ),
    Row(
        "connect_gateway_url",
        ("--connect-gateway-url",),
        "The gateway's WebSocket URL as workers reach it (behind a proxy); default: the host "
        "a worker used for the API, on the gateway port.",
    ),
    Row(
        "environments",
        ("--env",),
        "An environment to serve beside production (repeatable); apps pick one with INNGEST_ENV.",
    ),
    Row(
        "branch_envs",
        ("--branch-envs/--no-branch-envs",),
        "A sync naming a new environment (X-Inngest-Env) creates it as a branch environment.",
    ),
    Row(
        "branch_env_idle",
        ("--branch-env-idle",),
        "Seconds without a sync or an event before a branch environment is archived.",
    ),
    Row(
        "max_branch_envs",
        ("--max-branch-envs",),
        "Branch environments served at once (each is a full engine: on PostgreSQL 5 "
        "connections per process); a sync naming one more is refused (409) until one is archived.",
    ),
    Row("no_discovery", ("--no-discovery",), "Do not probe local ports for apps."),
    Row("no_poll", ("--no-poll",), "Do not re-sync apps periodically."),
    Row("poll_interval", ("--poll-interval",), "Seconds."),
    Row(
        "db",
        ("--db", "--postgres-uri"),
        "SQLite path, or postgresql://… to share one database among processes.",
    ),
    Row(
        "durability",
        ("--durability",),
        "What an acknowledged write survives: process (a crash of ours) or power (fsync every "
        "commit). Default: process on SQLite, power on PostgreSQL.",
    ),
    Row(
        "lease_seconds",
        ("--lease-seconds",),
        "A dead process's work is taken over after this long.",
    ),
    Row("backoff_base", ("--backoff-base",), "Seconds before the first retry; doubles."),
    Row("backoff_max", ("--backoff-max",), "Longest delay between retries, seconds."),
    Row("call_timeout", ("--call-timeout",), "Seconds per SDK call."),
    Row("max_in_flight", ("--max-in-flight",), "SDK calls in flight at once."),
    Row(
        "shutdown_timeout",
        ("--shutdown-timeout",),
        "Seconds to let in-flight calls finish on SIGTERM.",
    ),
    Row(
        "state_limit",
        ("--state-limit",),
        "Call bodies above this many bytes make the SDK fetch state via the API.",
    ),
    Row(
        "max_body_bytes",
        ("--max-body-bytes",),
        "Largest request body accepted by the sync and operator APIs.",
    ),
    Row("max_event_bytes", ("--max-event-bytes",), "Largest single event (its JSON), bytes."),
    Row(
        "max_events_body_bytes",
        ("--max-events-body-bytes",),
        "Largest event request (up to 5000 events), bytes.",
    ),
    Row(
        "zombie_check_interval",
        ("--zombie-check-interval",),
        "Seconds between checks for Running runs with nothing queued (0: off).",
    ),
    Row(
        "zombie_grace",
        ("--zombie-grace",),
        "Seconds a run must be unchanged before the check re-queues it.",
    ),
    Row(
        "endpoint_sync_timeout",
        ("--endpoint-sync-timeout",),
        "Seconds a durable endpoint's run may go without a checkpoint from its request before "
        "the server continues it.",
    ),
    Row(
        "header_timeout",
        ("--header-timeout",),
        "Seconds for a client to send its request line and headers; then 408 and close.",
    ),
    Row(
        "keep_alive_timeout",
        ("--keep-alive-timeout",),
        "Seconds an idle keep-alive connection stays open.",
    ),
    Row(
        "max_connections",
        ("--max-connections",),
        "Open connections served at once; requests on further ones get 503.",
    ),
    Row(
        "verify_responses",
        ("--verify-responses/--no-verify-responses",),
        "Fail a call whose reply is not signed with our key.",
    ),
    Row(
        "app_url_allow",
        ("--app-url-allow",),
        "Only call app URLs starting with this prefix (repeatable; SSRF guard).",
    ),
    Row(
        "egress_allow",
        ("--egress-allow",),
        "URL prefix step.fetch and step.ai.infer may call (repeatable; none: no such request).",
    ),
    Row("egress_timeout", ("--egress-timeout",), "Seconds per step.fetch / step.ai.infer request."),
    Row(
        "egress_max_bytes",
        ("--egress-max-bytes",),
        "Largest step.fetch / step.ai.infer response; a larger one fails the step.",
    ),
    Row("session_ttl", ("--session-ttl",), "Dashboard login lifetime, seconds."),
    Row(
        "max_reply_bytes",
        ("--max-reply-bytes",),
        "Largest SDK reply accepted; a larger one is a retriable failure.",
    ),
    Row(
        "otel_endpoint",
        ("--otel-endpoint",),
        "OTLP base URL: export each run's trace (http://collector:4318; gRPC: "
        "http://collector:4317 with OTEL_EXPORTER_OTLP_PROTOCOL=grpc). OTEL_EXPORTER_OTLP_* "
        "variables work too.",
    ),
    Row(
        "otel_metrics",
        ("--otel-metrics/--no-otel-metrics",),
        "Also export the server's metrics over OTLP (those of GET /metrics).",
    ),
    Row("log_level", ("-l", "--log-level"), "Log level (trace is debug here)."),
    Row("no_ui", ("--no-ui",), "Do not serve the dashboard."),
)
_ROW = {row.flag: row for row in ROWS}


# What an inngest-cli flag that stands for flags of ours says in `--help`.
INNGEST_HELP = {
    "retry_interval": "inngest-cli: N seconds between retries (--backoff-base N --backoff-max N).",
    "queue_workers": "inngest-cli: same as --max-in-flight.",
    "sqlite_dir": "inngest-cli: --db DIR/dev.db (start: DIR/mainspring.db).",
    "verbose": "inngest-cli: same as --log-level debug.",
}


def server_params(mode: Mode) -> list[click.Parameter]:
    """Every option `mode` has, `--config`, and the inngest-cli flags `mode` accepts."""
    rows = [row for row in ROWS if mode in FLAGS[row.flag].modes]
    inngest = [name for name, flag in INNGEST_FLAGS.items() if mode in flag.modes]
    return [
        config_option(mode),
        *(option(row.flag, mode) for row in rows),
        *(inngest_option(name) for name in inngest),
    ]


def inngest_option(name: str) -> click.Option:
    """An inngest-cli flag: no default (so a flag of ours wins), no environment twin."""
    flag = INNGEST_FLAGS[name]
    kwargs: dict[str, Any] = {"help": INNGEST_HELP.get(name), "hidden": bool(flag.ignored)}
    if flag.kind is bool:
        kwargs["is_flag"] = True
    else:
        kwargs["type"] = _inngest_type(flag)
    return click.Option([spelling(name), name], **kwargs)


def _inngest_type(flag: InngestFlag) -> click.ParamType[Any]:
    if flag.kind is int:
        return click.IntRange(min=flag.minimum)
    return click.STRING


def config_option(mode: Mode) -> click.Option:
    return click.Option(
        ["--config", "config"],
        type=click.Path(dir_okay=False),
        envvar=list(env_names(CONFIG_ENV, mode)),
        help="TOML or JSON file of flag values and [alerts], [retention] (flags and "
        "environment win).",
    )


def option(name: str, mode: Mode) -> click.Option:
    row, flag = _ROW[name], FLAGS[name]
    field = Settings.model_fields[flag.field]
    kwargs: dict[str, Any] = {"envvar": list(env_names(flag.env, mode)), "help": row.help}
    if flag.negate:
        kwargs["is_flag"] = True
    elif field.annotation == tuple[str, ...]:
        kwargs["multiple"] = True
    else:
        kwargs["default"] = _default(flag, mode)
        kwargs["show_default"] = kwargs["default"] is not None
        if field.annotation is not bool:
            kwargs["type"] = _click_type(field, flag.scale)
    return click.Option([*row.spellings, name], **kwargs)


def _default(flag: Flag, mode: Mode) -> Any:
    value = MODE_DEFAULTS[mode].get(flag.field, Settings.model_fields[flag.field].default)
    return value / flag.scale if flag.scale != 1 else value


def _click_type(field: FieldInfo, scale: int) -> click.ParamType[Any] | None:
    """The field's bounds, in the flag's unit: a bad value is refused by click, naming the flag."""
    if get_origin(field.annotation) is Literal:
        return click.Choice(get_args(field.annotation), case_sensitive=False)
    if field.annotation not in (int, float):
        return None
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    if field.annotation is int and scale == 1:
        return click.IntRange(min=low, max=high)
    return click.FloatRange(
        min=None if low is None else low / scale, max=None if high is None else high / scale
    )


def given(ctx: click.Context) -> dict[str, Any]:
    """The values typed on the command line or taken from the environment (click already
    checked them); the rest is left to the config file and the defaults."""
    typed = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    return {name: v for name, v in ctx.params.items() if ctx.get_parameter_source(name) in typed}
