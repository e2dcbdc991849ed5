"""Moved: the settings live in `mainspring.settings`, redact_url in `mainspring.store` (shim)."""

from mainspring.settings import DEFAULT_CALL_TIMEOUT_S as DEFAULT_CALL_TIMEOUT_S
from mainspring.settings import DEFAULT_DB as DEFAULT_DB
from mainspring.settings import DEFAULT_HEADER_TIMEOUT_S as DEFAULT_HEADER_TIMEOUT_S
from mainspring.settings import DEFAULT_KEEP_ALIVE_S as DEFAULT_KEEP_ALIVE_S
from mainspring.settings import DEFAULT_MAX_BODY_BYTES as DEFAULT_MAX_BODY_BYTES
from mainspring.settings import DEFAULT_MAX_CONNECTIONS as DEFAULT_MAX_CONNECTIONS
from mainspring.settings import DEFAULT_POLL_INTERVAL_S as DEFAULT_POLL_INTERVAL_S
from mainspring.settings import DEFAULT_PORT as DEFAULT_PORT
from mainspring.settings import DEFAULT_SESSION_TTL_S as DEFAULT_SESSION_TTL_S
from mainspring.settings import DEFAULT_STATE_LIMIT_BYTES as DEFAULT_STATE_LIMIT_BYTES
from mainspring.settings import LEASE_MS as LEASE_MS
from mainspring.settings import MAX_ZOMBIE_GRACE_S as MAX_ZOMBIE_GRACE_S
from mainspring.settings import Settings as Settings
from mainspring.store import redact_url as redact_url
