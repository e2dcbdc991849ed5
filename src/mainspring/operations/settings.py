"""The operations service's part of the settings: alerts and retention. Both are read by
`mainspring.settings` (one schema, one precedence rule); the names here are shims."""

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
