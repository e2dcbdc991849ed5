"""Moved to mainspring.domain.cron (shim until the W3 sweep)."""

from mainspring.domain.cron import Schedule as Schedule
from mainspring.domain.cron import jitter_for as jitter_for
from mainspring.domain.cron import next_after as next_after
from mainspring.domain.cron import parse as parse
