"""Moved to mainspring.domain.lifecycle (shim until the W3 sweep)."""

from mainspring.domain.lifecycle import finish_events as finish_events
