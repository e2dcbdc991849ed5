"""Debounce: one run per key after `period` without a new event; `timeout` caps the delay."""

from __future__ import annotations


def fire_at(first_at: int, now: int, period_ms: int, timeout_ms: int | None) -> int:
    """When the collected run starts, given the first event's arrival and the latest (`now`)."""
    due = now + period_ms
    if timeout_ms is not None:
        due = min(due, first_at + timeout_ms)
    return due
