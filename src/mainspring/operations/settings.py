"""The operations service's part of the settings: alerts and retention, as `mainspring.settings`
reads them (one schema, one precedence rule), under the names the operations code uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from mainspring.settings import Alerts as AlertConfig
from mainspring.settings import Retention as RetentionConfig
from mainspring.settings import load_operations as load

__all__ = ["AlertConfig", "OperationsConfig", "RetentionConfig", "load"]


@dataclass(frozen=True, slots=True)
class OperationsConfig:
    alerts: AlertConfig = field(default_factory=AlertConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    environment: str | None = None  # alerts name it (None: the default environment)
