"""Settings of alerts and retention: an optional TOML file (`MAINSPRING_CONFIG`), overridden
by `MAINSPRING_*` environment variables. Read once at start-up.

```toml
[alerts]
webhook_url = "https://hooks.example.com/mainspring"
window = "1h"             # success-rate window
min_success_rate = 0.7
min_runs = 5              # fewer finished runs in the window: no success-rate verdict
dead_letters = 10         # failed runs in the window not yet replayed
interval = "15s"          # how often rules are evaluated
[alerts.expected]         # no success of a function within its period trips an alert
"app-nightly-report" = "26h"

[retention]
max_age = "7d"            # "0" turns pruning off
batch = 500
interval = "60s"
```
Environment: MAINSPRING_ALERT_WEBHOOK_URL, MAINSPRING_ALERT_WINDOW,
MAINSPRING_ALERT_MIN_SUCCESS_RATE, MAINSPRING_ALERT_MIN_RUNS, MAINSPRING_ALERT_DEAD_LETTERS,
MAINSPRING_ALERT_INTERVAL, MAINSPRING_ALERT_EXPECTED (`slug=26h,other=1h`), MAINSPRING_RETENTION,
MAINSPRING_RETENTION_BATCH, MAINSPRING_RETENTION_INTERVAL.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mainspring import errors
from mainspring.domain.durations import parse_duration_ms

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class AlertConfig:
    webhook_url: str | None = None
    window_ms: int = HOUR_MS
    min_success_rate: float = 0.7
    min_runs: int = 5
    dead_letters: int = 10
    interval_ms: int = 15_000
    expected_ms: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    max_age_ms: int = 7 * 24 * HOUR_MS
    batch: int = 500
    interval_ms: int = 60_000


@dataclass(frozen=True, slots=True)
class OperationsConfig:
    alerts: AlertConfig = field(default_factory=AlertConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)


def _duration(value: Any, name: str) -> int:
    try:
        return 0 if str(value).strip() in ("0", "off") else parse_duration_ms(str(value))
    except ValueError:
        raise errors.ConfigError(f"{name}: {value!r} is not a duration like 30s, 1h, 7d") from None


def _number(value: Any, name: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise errors.ConfigError(f"{name}: {value!r} is not a number") from None


def _expected(value: Any) -> dict[str, int]:
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = [
            (part.split("=", 1)[0], part.split("=", 1)[1])
            for part in str(value).split(",")
            if "=" in part
        ]
    return {str(k).strip(): _duration(v, f"expected period of {k}") for k, v in pairs}


def load(env: Mapping[str, str]) -> OperationsConfig:
    """Build the settings; raises ConfigError naming the bad key."""
    raw: dict[str, Any] = {}
    path = env.get("MAINSPRING_CONFIG")
    if path:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise errors.ConfigError(f"cannot read config file {path}: {exc}") from None
    alerts = dict(raw.get("alerts", {}))
    retention = dict(raw.get("retention", {}))
    overrides = {
        "MAINSPRING_ALERT_WEBHOOK_URL": (alerts, "webhook_url"),
        "MAINSPRING_ALERT_WINDOW": (alerts, "window"),
        "MAINSPRING_ALERT_MIN_SUCCESS_RATE": (alerts, "min_success_rate"),
        "MAINSPRING_ALERT_MIN_RUNS": (alerts, "min_runs"),
        "MAINSPRING_ALERT_DEAD_LETTERS": (alerts, "dead_letters"),
        "MAINSPRING_ALERT_INTERVAL": (alerts, "interval"),
        "MAINSPRING_ALERT_EXPECTED": (alerts, "expected"),
        "MAINSPRING_RETENTION": (retention, "max_age"),
        "MAINSPRING_RETENTION_BATCH": (retention, "batch"),
        "MAINSPRING_RETENTION_INTERVAL": (retention, "interval"),
    }
    for name, (section, key) in overrides.items():
        if env.get(name):
            section[key] = env[name]
    defaults_a, defaults_r = AlertConfig(), RetentionConfig()
    return OperationsConfig(
        alerts=AlertConfig(
            webhook_url=alerts.get("webhook_url") or None,
            window_ms=_duration(alerts.get("window", "1h"), "alerts.window")
            or defaults_a.window_ms,
            min_success_rate=_number(
                alerts.get("min_success_rate", 0.7), "alerts.min_success_rate", float
            ),
            min_runs=_number(alerts.get("min_runs", 5), "alerts.min_runs", int),
            dead_letters=_number(alerts.get("dead_letters", 10), "alerts.dead_letters", int),
            interval_ms=_duration(alerts.get("interval", "15s"), "alerts.interval")
            or defaults_a.interval_ms,
            expected_ms=_expected(alerts.get("expected", {})),
        ),
        retention=RetentionConfig(
            max_age_ms=_duration(retention.get("max_age", "7d"), "retention.max_age"),
            batch=max(1, _number(retention.get("batch", 500), "retention.batch", int)),
            interval_ms=_duration(retention.get("interval", "60s"), "retention.interval")
            or defaults_r.interval_ms,
        ),
    )
