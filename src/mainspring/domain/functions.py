"""Functions as synced from an app: identity, triggers, retry policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from mainspring.domain.flow import FlowConfig, FlowOverrides

DEFAULT_RETRIES = 3
MAX_RETRIES = 20


@dataclass(frozen=True, slots=True)
class Trigger:
    event: str | None = None
    expression: str | None = None
    cron: str | None = None
    jitter_ms: int = 0

    def matches_name(self, name: str) -> bool:
        """Exact name, or a wildcard such as `app/*` or `app/user.*`."""
        if self.event is None:
            return False
        if self.event.endswith("*"):
            return name.startswith(self.event[:-1])
        return self.event == name


@dataclass(frozen=True, slots=True)
class CancelRule:
    """Cancel a run when `event` arrives and `expression` (vars `event`, `async`) holds."""

    event: str
    expression: str | None = None
    timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CronSchedule:
    expression: str
    jitter_ms: int = 0


@dataclass(frozen=True, slots=True)
class FunctionDef:
    id: str
    app_id: str
    slug: str
    name: str
    url: str
    triggers: tuple[Trigger, ...]
    retries: int = DEFAULT_RETRIES
    cancel: tuple[CancelRule, ...] = ()
    start_timeout_ms: int | None = None
    finish_timeout_ms: int | None = None
    flow: FlowConfig = field(default_factory=FlowConfig)
    config: dict[str, Any] = field(default_factory=dict, compare=False)
    # A durable endpoint: no triggers; its runs start in the app and are continued by replaying
    # their `inngest/http.request` at its URL (`protocol/endpoints.py`).
    endpoint: bool = False
    # An operator's live overrides (already folded into `flow`, which is what the engine obeys).
    overrides: FlowOverrides | None = field(default=None, compare=False)

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    @property
    def schedules(self) -> tuple[CronSchedule, ...]:
        return tuple(
            CronSchedule(trigger.cron, trigger.jitter_ms)
            for trigger in self.triggers
            if trigger.cron
        )


class Functions(Protocol):
    """The registry as event routing sees it."""

    def get(self, slug: str) -> FunctionDef | None: ...

    def match(self, event: dict[str, Any]) -> list[FunctionDef]: ...
