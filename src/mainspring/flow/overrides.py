"""Live overrides over the synced flow config: what the engine obeys (pure).

A concurrency override caps the function's own keys (scope `fn`, keyed or not) at its value;
`env`/`account` keys are shared with other functions and keep their synced limit. The value
itself is not folded in here: the store applies it when it records a run's limits (and
re-limits queued work when it changes), so a process with a stale function set cannot store a
stale limit. A function without a limit of its own gets a function-wide key (limit UNLIMITED
until the store applies the override), for runs started after the override.
Throttle and rate limit overrides keep the synced `key` (the override changes how many, not
which bucket); the priority override replaces the `run` expression.
"""

from __future__ import annotations

import dataclasses

from mainspring.domain.flow import (
    UNLIMITED,
    ConcurrencyLimit,
    FlowConfig,
    FlowOverrides,
    RateLimit,
    Throttle,
)

MAX_LIMITS = 2  # a queue item carries at most two concurrency keys


def effective(synced: FlowConfig, overrides: FlowOverrides | None) -> FlowConfig:
    if overrides is None or overrides.empty:
        return synced
    return dataclasses.replace(
        synced,
        concurrency=_concurrency(synced.concurrency, overrides.concurrency),
        throttle=_throttle(synced.throttle, overrides.throttle),
        rate_limit=_rate_limit(synced.rate_limit, overrides.rate_limit),
        priority=synced.priority if overrides.priority is None else overrides.priority,
    )


def has_room(synced: tuple[ConcurrencyLimit, ...]) -> bool:
    """Whether a concurrency override can apply without dropping a synced limit: the function
    has a limit of its own to change, or a free slot for one."""
    return any(rule.scope == "fn" for rule in synced) or len(synced) < MAX_LIMITS


def _concurrency(
    synced: tuple[ConcurrencyLimit, ...], limit: int | None
) -> tuple[ConcurrencyLimit, ...]:
    if limit is None or any(rule.scope == "fn" for rule in synced) or not has_room(synced):
        return synced  # never cut a shared limit (the API refuses such an override)
    return (ConcurrencyLimit(UNLIMITED), *synced)


def _throttle(synced: Throttle | None, override: Throttle | None) -> Throttle | None:
    if override is None:
        return synced
    key = synced.key if synced is not None else None
    return dataclasses.replace(override, key=key)


def _rate_limit(synced: RateLimit | None, override: RateLimit | None) -> RateLimit | None:
    if override is None:
        return synced
    key = synced.key if synced is not None else None
    return dataclasses.replace(override, key=key)


def own_limits(synced: tuple[ConcurrencyLimit, ...]) -> tuple[int | None, int | None]:
    """The synced limits of the function's own keys: (function-wide, keyed); None when unset."""
    whole = next((r.limit for r in synced if r.scope == "fn" and r.key is None), None)
    keyed = next((r.limit for r in synced if r.scope == "fn" and r.key is not None), None)
    return whole, keyed
