"""One frozen Settings object, built by the CLI from flags and their MAINSPRING_* twins."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PORT = 8288
DEFAULT_DB = "./.mainspring/dev.db"
DEFAULT_POLL_INTERVAL_S = 5.0
DEFAULT_CALL_TIMEOUT_S = 7200.0
DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024
LEASE_MS = 30_000
DEFAULT_STATE_LIMIT_BYTES = 4 * 1024 * 1024
DEFAULT_SESSION_TTL_S = 12 * 3600
MAX_ZOMBIE_GRACE_S = 366 * 24 * 3600  # a longer grace would not be a check any more
DEFAULT_HEADER_TIMEOUT_S = 10.0
# Longer than the connection-pool expiry of common clients (httpx 5 s, undici 4 s), so they close
# an idle connection before we do and never reuse one we are closing.
DEFAULT_KEEP_ALIVE_S = 20
DEFAULT_MAX_CONNECTIONS = 1000


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db: str = DEFAULT_DB
    sdk_urls: tuple[str, ...] = field(default_factory=tuple)
    discovery: bool = True
    poll: bool = True
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
    backoff_base_ms: int = 1_000
    backoff_max_ms: int = 3_600_000
    call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S
    max_in_flight: int = 256
    shutdown_timeout_s: float = 30.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_reply_bytes: int = 64 * 1024 * 1024
    lease_ms: int = LEASE_MS
    # Connection hygiene (serving/protocol.py): header deadline, idle keep-alive, connection cap.
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    keep_alive_s: int = DEFAULT_KEEP_ALIVE_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    server_kind: str = "dev"
    state_limit: int = DEFAULT_STATE_LIMIT_BYTES
    # Production mode (`mainspring start`): keys, reply verification, app URL allow-list.
    signing_key: str | None = None
    signing_key_fallback: str | None = None
    event_keys: tuple[str, ...] = ()
    verify_responses: bool = False
    app_url_allow: tuple[str, ...] = ()
    session_ttl_s: int = DEFAULT_SESSION_TTL_S
    # The invariant check "a Running run has a queue item, a wait, a timer or a lease".
    zombie_check_interval_s: float = 30.0
    zombie_grace_s: float = 60.0

    @property
    def production(self) -> bool:
        return self.server_kind == "cloud"

    @property
    def signing_keys(self) -> tuple[str, ...]:
        """The keys accepted from apps: the current one, then the rotation fallback."""
        return tuple(k for k in (self.signing_key, self.signing_key_fallback) if k)


def redact_url(url: str) -> str:
    """A database URL fit for logs: the password, if any, is masked."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        masked = f"{user}:***" if ":" in credentials else user
        return f"{scheme}{sep}{masked}@{host}"
    return url
