"""Flow-control settings of a function (§6 of the protocol), parsed once at sync."""

from __future__ import annotations

from dataclasses import dataclass

# The stored limit of a function's own concurrency key that has none: a live override gave the
# function a limit, and runs started under it keep the key after the override is cleared.
UNLIMITED = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ConcurrencyLimit:
    """At most `limit` SDK calls in flight per value of `key` (per function when scope is fn)."""

    limit: int
    key: str | None = None
    scope: str = "fn"  # fn | env | account


@dataclass(frozen=True, slots=True)
class Throttle:
    limit: int
    period_ms: int
    burst: int = 1
    key: str | None = None


@dataclass(frozen=True, slots=True)
class RateLimit:
    limit: int
    period_ms: int
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Singleton:
    mode: str  # skip | cancel
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Debounce:
    period_ms: int
    key: str | None = None
    timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    max_size: int
    timeout_ms: int
    key: str | None = None
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class FlowConfig:
    concurrency: tuple[ConcurrencyLimit, ...] = ()
    throttle: Throttle | None = None
    rate_limit: RateLimit | None = None
    idempotency: str | None = None
    singleton: Singleton | None = None
    debounce: Debounce | None = None
    batch: Batch | None = None
    priority: str | None = None

    @property
    def collects(self) -> bool:
        """Events are held (debounce, batchEvents) before a run starts."""
        return self.debounce is not None or self.batch is not None

    @property
    def gates_start(self) -> bool:
        """Whether starting a run needs any flow decision at all (the common case: no)."""
        return bool(
            self.concurrency
            or self.throttle
            or self.rate_limit
            or self.idempotency
            or self.singleton
            or self.priority
        )


@dataclass(frozen=True, slots=True)
class FlowOverrides:
    """An operator's live overrides of a function's flow control; each wins over the synced
    setting until cleared (None: the synced setting applies)."""

    concurrency: int | None = None
    throttle: Throttle | None = None
    rate_limit: RateLimit | None = None
    priority: str | None = None
    updated_at: int | None = None
    updated_by: str | None = None

    @property
    def empty(self) -> bool:
        return (
            self.concurrency is None
            and self.throttle is None
            and self.rate_limit is None
            and self.priority is None
        )
