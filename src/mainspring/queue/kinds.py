"""Moved to mainspring.domain.queue (shim until the W3 sweep)."""

from mainspring.domain.queue import Kind as Kind
from mainspring.domain.queue import QueueItem as QueueItem
from mainspring.domain.queue import discovery_key as discovery_key
