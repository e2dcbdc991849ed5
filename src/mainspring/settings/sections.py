"""The `[alerts]` and `[retention]` sections of the settings (read once at start-up).

Fields are named in milliseconds (`window_ms`); the config file and the environment speak
durations (`window = "1h"`), which the aliases accept.
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
    field_validator,
)

from mainspring.domain.durations import parse_duration_ms

HOUR_MS = 3_600_000
ALERT_WINDOW_MS = HOUR_MS
ALERT_INTERVAL_MS = 15_000
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


class Alerts(BaseModel):
    model_config = ConfigDict(frozen=True)

    webhook_url: str | None = None
    window_ms: Annotated[Period, _zero_keeps(ALERT_WINDOW_MS)] = Field(
        default=ALERT_WINDOW_MS, validation_alias=_aka("window_ms", "window")
    )
    min_success_rate: float = 0.7
    min_runs: int = 5  # fewer finished runs in the window: no success-rate verdict
    dead_letters: int = 10  # failed runs in the window not yet replayed
    interval_ms: Annotated[Period, _zero_keeps(ALERT_INTERVAL_MS)] = Field(
        default=ALERT_INTERVAL_MS, validation_alias=_aka("interval_ms", "interval")
    )
    expected_ms: dict[str, int] = Field(
        default_factory=dict, validation_alias=_aka("expected_ms", "expected")
    )

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return value or None

    @field_validator("expected_ms", mode="before")
    @classmethod
    def _expected(cls, value: Any) -> Any:
        if isinstance(value, str):  # MAINSPRING_ALERT_EXPECTED="slug=26h,other=1h"
            value = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
        if not isinstance(value, dict):
            return value
        return {str(slug).strip(): _duration(period) for slug, period in value.items()}


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
