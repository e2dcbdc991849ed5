"""One frozen Settings object for `mainspring dev` and `mainspring start` (pydantic-settings).

One precedence rule for every field, alerts and retention included:
flag > environment (`MAINSPRING_*`, and `INNGEST_*` where `start` accepts it) > config file
(`--config` / `MAINSPRING_CONFIG`, TOML or JSON) > the mode's default > the field's default.

The config file has one schema: flag names at the top, `[alerts]` and `[retention]` tables.
inngest-cli's keys that stand for flags of ours (`retry-interval`, `queue-workers`, `sqlite-dir`)
read as those flags, so an `inngest.json` works; its other keys are skipped.

```toml
signing-key = "signkey-prod-…"
event-key = ["cron-key", "app-key"]   # one string or a list
backoff-base = 2                       # the flag's unit (seconds), as on the command line

[alerts]
window = "1h"             # success-rate and p95 window
min_success_rate = 0.7
min_runs = 5              # fewer finished runs in the window: no success-rate or p95 verdict
dead_letters = 10         # failed runs in the window not yet replayed
interval = "15s"          # how often rules are evaluated
max_queue_lag = "2m"      # the oldest ready queue item waited longer ("0": rule off)
consecutive_failures = 3  # a function's last 3 finished runs all failed (0: rule off)
webhook_url = "https://hooks.example.com/mainspring"   # JSON, every transition
webhook_throttle = "0"
slack_webhook_url = "https://hooks.slack.com/services/…"  # Block Kit message
slack_throttle = "10m"    # at most one "firing" per rule per 10 minutes
smtp_host = "smtp.example.com"
smtp_port = 587
smtp_user = "alerts"
smtp_password = "…"
smtp_starttls = true      # smtp_tls = true for TLS from the start (port 465)
email_from = "mainspring@example.com"
email_to = ["oncall@example.com"]
email_throttle = "10m"
[alerts.expected]         # no success of a function within its period trips an alert
"app-nightly-report" = "26h"
[alerts.max_p95]          # a function's p95 duration in the window above this trips an alert
"app-checkout" = "30s"
"*" = "5m"                # every other function

[retention]
max_age = "7d"            # "0" turns pruning off
batch = 500
interval = "60s"
rollup_interval = "10s"   # how often the charts' per-minute rollups are recomputed; "0" is off
```
Alert and retention environment: MAINSPRING_ALERT_WEBHOOK_URL, MAINSPRING_ALERT_WINDOW,
MAINSPRING_ALERT_MIN_SUCCESS_RATE, MAINSPRING_ALERT_MIN_RUNS, MAINSPRING_ALERT_DEAD_LETTERS,
MAINSPRING_ALERT_INTERVAL, MAINSPRING_ALERT_EXPECTED (`slug=26h,other=1h`), MAINSPRING_ALERT_MAX_P95
(same shape), MAINSPRING_ALERT_MAX_QUEUE_LAG, MAINSPRING_ALERT_CONSECUTIVE_FAILURES,
MAINSPRING_ALERT_WEBHOOK_THROTTLE, MAINSPRING_ALERT_SLACK_WEBHOOK_URL,
MAINSPRING_ALERT_SLACK_THROTTLE,
MAINSPRING_ALERT_SMTP_{HOST,PORT,USER,PASSWORD,STARTTLS,TLS}, MAINSPRING_ALERT_EMAIL_FROM,
MAINSPRING_ALERT_EMAIL_TO (comma-separated), MAINSPRING_ALERT_EMAIL_THROTTLE, MAINSPRING_RETENTION,
MAINSPRING_RETENTION_BATCH, MAINSPRING_RETENTION_INTERVAL, MAINSPRING_ROLLUP_INTERVAL.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mainspring import errors
from mainspring.settings.flags import (
    CONFIG_ENV,
    FLAGS,
    INNGEST_FLAGS,
    SQLITE_FILE,
    Mode,
    env_names,
    flag_fields,
    is_true,
)
from mainspring.settings.sections import ALL_FUNCTIONS, Alerts, Retention

__all__ = [
    "ALL_FUNCTIONS",
    "DEFAULT_CALL_TIMEOUT_S",
    "DEFAULT_DB",
    "DEFAULT_EGRESS_MAX_BYTES",
    "DEFAULT_EGRESS_TIMEOUT_S",
    "DEFAULT_HEADER_TIMEOUT_S",
    "DEFAULT_KEEP_ALIVE_S",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_POLL_INTERVAL_S",
    "DEFAULT_PORT",
    "DEFAULT_PRODUCTION_DB",
    "DEFAULT_SESSION_TTL_S",
    "DEFAULT_STATE_LIMIT_BYTES",
    "LEASE_MS",
    "LOG_LEVELS",
    "MAX_ZOMBIE_GRACE_S",
    "MODE_DEFAULTS",
    "Alerts",
    "Mode",
    "Retention",
    "Settings",
    "load_operations",
]

DEFAULT_PORT = 8288
DEFAULT_DB = f"./.mainspring/{SQLITE_FILE['dev']}"
DEFAULT_PRODUCTION_DB = f"./.mainspring/{SQLITE_FILE['start']}"
LogLevel = Literal["trace", "debug", "info", "warn", "error"]  # inngest-cli's names
# trace is inngest-cli's level below debug; Python's logging has none below DEBUG.
LOG_LEVELS: dict[str, int] = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}
DEFAULT_POLL_INTERVAL_S = 5.0
DEFAULT_CALL_TIMEOUT_S = 7200.0
DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024
# One event's JSON may be as large as Inngest's `AbsoluteMaxEventSize`; an event request may
# hold many of them (up to 5000), within its own cap.
DEFAULT_MAX_EVENT_BYTES = 3 * 1024 * 1024
DEFAULT_MAX_EVENTS_BODY_BYTES = 64 * 1024 * 1024
LEASE_MS = 30_000
DEFAULT_STATE_LIMIT_BYTES = 4 * 1024 * 1024
DEFAULT_SESSION_TTL_S = 12 * 3600
MAX_ZOMBIE_GRACE_S = 366 * 24 * 3600  # a longer grace would not be a check any more
DEFAULT_HEADER_TIMEOUT_S = 10.0
# Longer than the connection-pool expiry of common clients (httpx 5 s, undici 4 s), so they close
# an idle connection before we do and never reuse one we are closing.
DEFAULT_KEEP_ALIVE_S = 20
DEFAULT_MAX_CONNECTIONS = 1000
# step.fetch / step.ai.infer: long enough for a slow model, short enough that a dead endpoint
# does not hold a worker slot for the 2 h Inngest allows; 4 MiB is Inngest's step output limit.
DEFAULT_EGRESS_TIMEOUT_S = 600.0
DEFAULT_EGRESS_MAX_BYTES = 4 * 1024 * 1024

# What `start` changes from the field defaults (which are dev's).
MODE_DEFAULTS: dict[Mode, dict[str, Any]] = {
    "dev": {},
    "start": {
        "host": "0.0.0.0",
        "db": DEFAULT_PRODUCTION_DB,
        "discovery": False,
        "server_kind": "cloud",
        "verify_responses": True,
    },
}

# Alert and retention settings keep the environment names they had before the one schema.
SECTION_ENV = {
    "MAINSPRING_ALERT_WEBHOOK_URL": ("alerts", "webhook_url"),
    "MAINSPRING_ALERT_WINDOW": ("alerts", "window"),
    "MAINSPRING_ALERT_MIN_SUCCESS_RATE": ("alerts", "min_success_rate"),
    "MAINSPRING_ALERT_MIN_RUNS": ("alerts", "min_runs"),
    "MAINSPRING_ALERT_DEAD_LETTERS": ("alerts", "dead_letters"),
    "MAINSPRING_ALERT_INTERVAL": ("alerts", "interval"),
    "MAINSPRING_ALERT_EXPECTED": ("alerts", "expected"),
    "MAINSPRING_ALERT_MAX_P95": ("alerts", "max_p95"),
    "MAINSPRING_ALERT_MAX_QUEUE_LAG": ("alerts", "max_queue_lag"),
    "MAINSPRING_ALERT_CONSECUTIVE_FAILURES": ("alerts", "consecutive_failures"),
    "MAINSPRING_ALERT_WEBHOOK_THROTTLE": ("alerts", "webhook_throttle"),
    "MAINSPRING_ALERT_SLACK_WEBHOOK_URL": ("alerts", "slack_webhook_url"),
    "MAINSPRING_ALERT_SLACK_THROTTLE": ("alerts", "slack_throttle"),
    "MAINSPRING_ALERT_SMTP_HOST": ("alerts", "smtp_host"),
    "MAINSPRING_ALERT_SMTP_PORT": ("alerts", "smtp_port"),
    "MAINSPRING_ALERT_SMTP_USER": ("alerts", "smtp_user"),
    "MAINSPRING_ALERT_SMTP_PASSWORD": ("alerts", "smtp_password"),
    "MAINSPRING_ALERT_SMTP_STARTTLS": ("alerts", "smtp_starttls"),
    "MAINSPRING_ALERT_SMTP_TLS": ("alerts", "smtp_tls"),
    "MAINSPRING_ALERT_EMAIL_FROM": ("alerts", "email_from"),
    "MAINSPRING_ALERT_EMAIL_TO": ("alerts", "email_to"),
    "MAINSPRING_ALERT_EMAIL_THROTTLE": ("alerts", "email_throttle"),
    "MAINSPRING_RETENTION": ("retention", "max_age"),
    "MAINSPRING_RETENTION_BATCH": ("retention", "batch"),
    "MAINSPRING_RETENTION_INTERVAL": ("retention", "interval"),
    "MAINSPRING_ROLLUP_INTERVAL": ("retention", "rollup_interval"),
}


Durability = Literal["process", "power"]


class Settings(BaseSettings):
    """Everything the server is told at start-up. `Settings(**fields)` (tests) reads nothing
    else; `Settings.load` applies the precedence rule."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    # Connect: SDK workers dial in over WebSocket on this port (inngest-cli's default)
    connect_gateway_port: int = Field(default=8289, ge=1, le=65535)
    # what /v0/connect/start hands workers, when they reach the gateway through a proxy
    connect_gateway_url: str | None = None
    db: str = DEFAULT_DB
    # What an acknowledged write survives: "process" (a killed Mainspring) or "power" (power
    # loss: fsync on every commit). None keeps each store's default: SQLite "process"
    # (synchronous=NORMAL), PostgreSQL "power" (synchronous_commit=on).
    durability: Durability | None = None
    sdk_urls: tuple[str, ...] = ()
    # Environments (issue 19): served beside the default one; branches added by a sync.
    environments: tuple[str, ...] = ()
    branch_envs: bool = False
    branch_env_idle_s: float = Field(default=7 * 24 * 3600.0, ge=1)
    max_branch_envs: int = Field(default=20, ge=1)
    discovery: bool = True
    poll: bool = True
    poll_interval_s: float = Field(default=DEFAULT_POLL_INTERVAL_S, ge=0.1)
    backoff_base_ms: int = Field(default=1_000, ge=0)
    backoff_max_ms: int = Field(default=3_600_000, ge=0)
    call_timeout_s: float = Field(default=DEFAULT_CALL_TIMEOUT_S, ge=1)
    max_in_flight: int = Field(default=256, ge=1)
    shutdown_timeout_s: float = Field(default=30.0, ge=0)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024)
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, ge=1024)
    max_events_body_bytes: int = Field(default=DEFAULT_MAX_EVENTS_BODY_BYTES, ge=1024)
    max_reply_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # The server's own requests (step.fetch, step.ai.infer); `egress_allow` binds in production.
    egress_timeout_s: float = Field(default=DEFAULT_EGRESS_TIMEOUT_S, ge=1)
    egress_max_bytes: int = Field(default=DEFAULT_EGRESS_MAX_BYTES, ge=1024)
    egress_allow: tuple[str, ...] = ()
    lease_ms: int = Field(default=LEASE_MS, ge=1000)
    # Connection hygiene (serving/protocol.py): header deadline, idle keep-alive, connection cap.
    header_timeout_s: float = Field(default=DEFAULT_HEADER_TIMEOUT_S, ge=0.1)
    keep_alive_s: int = Field(default=DEFAULT_KEEP_ALIVE_S, ge=1)
    max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, ge=1)
    server_kind: str = "dev"
    state_limit: int = Field(default=DEFAULT_STATE_LIMIT_BYTES, ge=1024)
    log_level: LogLevel = "info"
    ui: bool = True  # serve the dashboard (`--no-ui` leaves its routes out)
    # Production mode (`mainspring start`): keys, reply verification, app URL allow-list.
    signing_key: str | None = None
    signing_key_fallback: str | None = None
    # An environment's own signing key, `NAME=KEY` (`*=KEY`: every branch environment's, as
    # Inngest's branch environments share one); others use `signing_key`.
    env_signing_keys: tuple[str, ...] = ()
    event_keys: tuple[str, ...] = ()
    verify_responses: bool = False
    app_url_allow: tuple[str, ...] = ()
    session_ttl_s: int = Field(default=DEFAULT_SESSION_TTL_S, ge=60)
    # The invariant check "a Running run has a queue item, a wait, a timer or a lease".
    zombie_check_interval_s: float = Field(default=30.0, ge=0)
    zombie_grace_s: float = Field(default=60.0, ge=0, le=MAX_ZOMBIE_GRACE_S)
    # A durable endpoint's run with no checkpoint from its app request this long is taken over.
    endpoint_sync_timeout_s: float = Field(default=300.0, ge=0.1, le=24 * 3600)
    # OpenTelemetry export (telemetry/config.py): the OTLP base URL; metrics too when set.
    otel_endpoint: str | None = None
    otel_metrics: bool = False
    alerts: Alerts = Field(default_factory=Alerts)
    retention: Retention = Field(default_factory=Retention)

    @field_validator(
        "sdk_urls",
        "event_keys",
        "app_url_allow",
        "egress_allow",
        "environments",
        "env_signing_keys",
        mode="before",
    )
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip().lower()
        return "warn" if value == "warning" else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # plain construction reads no environment; load() adds layers

    @property
    def production(self) -> bool:
        return self.server_kind == "cloud"

    @property
    def logging_level(self) -> int:
        return LOG_LEVELS[self.log_level]

    @property
    def signing_keys(self) -> tuple[str, ...]:
        """The keys accepted from apps: the current one, then the rotation fallback."""
        return tuple(k for k in (self.signing_key, self.signing_key_fallback) if k)

    @classmethod
    def load(
        cls,
        mode: Mode,
        flags: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] = os.environ,
        config: str | None = None,
    ) -> Settings:
        """The settings of `mode`: `flags` are the values the user gave, keyed by flag name
        (`backoff_base` in seconds…); raises ConfigError naming the bad key."""
        path = config or next(
            (environ[n] for n in env_names(CONFIG_ENV, mode) if environ.get(n)), None
        )
        layers = (
            flag_fields(flags or {}, mode),
            _from_environment(environ, mode),
            _from_file(path, mode) if path else {},
            MODE_DEFAULTS[mode],
        )
        sources = tuple(_Layer(cls, layer) for layer in layers)
        try:
            # pydantic-settings' own hook for given sources; mypy sees only the fields.
            return cls(_build_sources=(sources, {}))  # type: ignore[call-arg]
        except ValidationError as exc:
            raise errors.ConfigError(_explain(exc)) from None


def load_operations(environ: Mapping[str, str]) -> Settings:
    """The settings as `dev` reads them from the environment alone (alerts, retention…)."""
    return Settings.load("dev", {}, environ)


class _Layer(PydanticBaseSettingsSource):
    """One layer of the precedence rule, already read into a dict."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = dict(values)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ hands over the whole layer

    def __call__(self) -> dict[str, Any]:
        return self._values


def _from_environment(environ: Mapping[str, str], mode: Mode) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for name, flag in FLAGS.items():
        if mode not in flag.modes:
            continue
        raw = _first(environ, env_names(flag.env, mode))
        if raw is None:
            continue
        # The way click reads an environment twin: lists split on whitespace, flags as booleans.
        many = Settings.model_fields[flag.field].annotation == tuple[str, ...]
        given[name] = raw.split() if many else is_true(raw) if flag.negate else raw
    values = flag_fields(given, mode)
    for name, (section, key) in SECTION_ENV.items():
        if environ.get(name):
            values.setdefault(section, {})[key] = environ[name]
    return values


def _first(environ: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    """The first of `names` that is set and not empty (click's rule for a list of envvars)."""
    return next((environ[name] for name in names if environ.get(name)), None)


def _from_file(path: str, mode: Mode) -> dict[str, Any]:
    try:
        text = Path(path).read_text()
        data = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise errors.ConfigError(f"cannot read config file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise errors.ConfigError(f"{path}: expected a table of flag names")
    given = {str(key).replace("-", "_"): value for key, value in data.items()}
    for spoken, name in (("event_key", "event_keys"), ("sdk_url", "sdk_urls")):
        if spoken in given:
            given[name] = given.pop(spoken)
    values = flag_fields({k: v for k, v in given.items() if k in FLAGS or k in INNGEST_FLAGS}, mode)
    for section in ("alerts", "retention"):
        if isinstance(given.get(section), dict):
            values[section] = given[section]
    return values


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"
