"""The `[alerts]` and `[retention]` sections of the settings (read once at start-up).

Fields are named in milliseconds (`window_ms`); the config file and the environment speak
durations (`window = "1h"`), which the aliases accept. A bad alert channel setting is refused at
start-up under its own name (`alerts.email_to: ...`), not when the first alert is due.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from mainspring.domain.durations import parse_duration_ms

HOUR_MS = 3_600_000
ALERT_WINDOW_MS = HOUR_MS
ALERT_INTERVAL_MS = 15_000
# Chat and mail are read by people: one "firing" per rule per channel per 10 minutes at most.
# The webhook feeds machines that dedupe themselves, so it keeps posting every transition.
PEOPLE_THROTTLE_MS = 10 * 60_000
ALL_FUNCTIONS = "*"  # in `[alerts.max_p95]`: every function without a threshold of its own
RETENTION_INTERVAL_MS = 60_000
ROLLUP_INTERVAL_MS = 10_000


def _duration(value: Any) -> Any:
    """`"30s"`, `"1h"`, `"7d"`; `"0"` and `"off"` are 0. Numbers are milliseconds already."""
    if not isinstance(value, str):
        return value
    try:
        return 0 if value.strip() in ("0", "off") else parse_duration_ms(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a duration like 30s, 1h, 7d") from None


Period = Annotated[int, BeforeValidator(_duration)]


def _zero_keeps(default: int) -> AfterValidator:
    """A zero window or round interval would mean "always": it keeps the default instead."""
    return AfterValidator(lambda value: value or default)


def _aka(field: str, spoken: str) -> AliasChoices:
    return AliasChoices(field, spoken)


def _slug_periods(value: Any) -> Any:
    """`{"slug": "26h"}` from a table, or from `"slug=26h,other=1h"` (the environment)."""
    if isinstance(value, str):
        value = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
    if not isinstance(value, dict):
        return value
    return {str(slug).strip(): _duration(period) for slug, period in value.items()}


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _addresses(value: Any) -> Any:
    """One address, a comma-separated list (the environment) or a list (the file)."""
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, list | tuple):
        value = tuple(str(part).strip() for part in value)
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an e-mail address")
    return value


HttpUrl = Annotated[str | None, AfterValidator(_http_url)]


class Alerts(BaseModel):
    model_config = ConfigDict(frozen=True)

    window_ms: Annotated[Period, _zero_keeps(ALERT_WINDOW_MS)] = Field(
        default=ALERT_WINDOW_MS, validation_alias=_aka("window_ms", "window")
    )
    min_success_rate: float = 0.7
    min_runs: int = 5  # fewer finished runs in the window: no success-rate or p95 verdict
    dead_letters: int = 10  # failed runs in the window not yet replayed
    interval_ms: Annotated[Period, _zero_keeps(ALERT_INTERVAL_MS)] = Field(
        default=ALERT_INTERVAL_MS, validation_alias=_aka("interval_ms", "interval")
    )
    expected_ms: dict[str, int] = Field(
        default_factory=dict, validation_alias=_aka("expected_ms", "expected")
    )
    # Rule kinds that are off until given a threshold.
    max_p95_ms: dict[str, int] = Field(
        default_factory=dict, validation_alias=_aka("max_p95_ms", "max_p95")
    )
    max_queue_lag_ms: Period = Field(
        default=0, ge=0, validation_alias=_aka("max_queue_lag_ms", "max_queue_lag")
    )
    consecutive_failures: int = Field(default=0, ge=0)
    # Channels: each one is on when its address is set, and has its own throttle.
    webhook_url: HttpUrl = None
    webhook_throttle_ms: Period = Field(
        default=0, ge=0, validation_alias=_aka("webhook_throttle_ms", "webhook_throttle")
    )
    slack_webhook_url: HttpUrl = None
    slack_throttle_ms: Period = Field(
        default=PEOPLE_THROTTLE_MS,
        ge=0,
        validation_alias=_aka("slack_throttle_ms", "slack_throttle"),
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True  # upgrade with STARTTLS (port 587); `smtp_tls` is TLS from the start
    smtp_tls: bool = False
    email_from: str | None = Field(default=None, validate_default=True)
    email_to: tuple[str, ...] = Field(default=(), validate_default=True)
    email_throttle_ms: Period = Field(
        default=PEOPLE_THROTTLE_MS,
        ge=0,
        validation_alias=_aka("email_throttle_ms", "email_throttle"),
    )

    @field_validator(
        "webhook_url", "slack_webhook_url", "smtp_host", "smtp_user", "smtp_password", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return value or None

    @field_validator("expected_ms", "max_p95_ms", mode="before")
    @classmethod
    def _periods(cls, value: Any) -> Any:
        return _slug_periods(value)

    @field_validator("max_p95_ms")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        for slug, period in value.items():
            if period <= 0:
                raise ValueError(f"{slug}: the threshold must be a duration above 0")
        return value

    @field_validator("email_from", mode="before")
    @classmethod
    def _sender(cls, value: Any, info: ValidationInfo) -> Any:
        value = value or None
        if info.data.get("smtp_host") and value is None:
            raise ValueError("required when smtp_host is set (the sender address)")
        if value is not None and "@" not in str(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("email_to", mode="before")
    @classmethod
    def _recipients(cls, value: Any, info: ValidationInfo) -> Any:
        value = _addresses(value or ())
        if info.data.get("smtp_host") and not value:
            raise ValueError("required when smtp_host is set (one or more addresses)")
        if value and not info.data.get("smtp_host"):
            raise ValueError("smtp_host must be set to send e-mail")
        return value


class Retention(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_age_ms: Period = Field(
        default=7 * 24 * HOUR_MS, validation_alias=_aka("max_age_ms", "max_age")
    )
    batch: int = 500
    interval_ms: Annotated[Period, _zero_keeps(RETENTION_INTERVAL_MS)] = Field(
        default=RETENTION_INTERVAL_MS, validation_alias=_aka("interval_ms", "interval")
    )
    # the charts' per-minute rollups (operations/rollups.py), pruned with the runs; 0 is off
    rollup_interval_ms: Period = Field(
        default=ROLLUP_INTERVAL_MS,
        ge=0,
        validation_alias=_aka("rollup_interval_ms", "rollup_interval"),
    )

    @field_validator("batch")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        return max(1, value)
