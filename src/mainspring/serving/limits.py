"""How long and how many connections the server tolerates, and how much of an unread request
body it drains before closing."""

from __future__ import annotations

from dataclasses import dataclass

from mainspring.settings import DEFAULT_HEADER_TIMEOUT_S, DEFAULT_MAX_CONNECTIONS

# Lingering close (as Go's net/http and nginx do): after answering a request whose body we did not
# read (a 413, a 503), read and discard this much more of it, so that a client that writes its
# whole body before reading sees our answer instead of a connection reset.
DRAIN_MAX_BYTES = 8 * 1024 * 1024
DRAIN_MAX_S = 5.0


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    drain_max_bytes: int = DRAIN_MAX_BYTES
    drain_max_s: float = DRAIN_MAX_S
