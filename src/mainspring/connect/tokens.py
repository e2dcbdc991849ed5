"""Session tokens of `/v0/connect/start`: an HMAC of the connection id under the signing key
(a per-process random key in dev), so a worker can only open the WebSocket that the start call,
made with a valid signing key, handed it. Valid for TOKEN_TTL_S."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

TOKEN_TTL_S = 300


class Tokens:
    def __init__(self, signing_key: str | None) -> None:
        key = signing_key or secrets.token_hex(32)
        self._key = hashlib.sha256(b"mainspring-connect:" + key.encode()).digest()

    def _mac(self, connection_id: str, expires: int) -> str:
        message = f"{connection_id}.{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self, connection_id: str, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + TOKEN_TTL_S
        return f"{expires}.{self._mac(connection_id, expires)}"

    def valid(self, connection_id: str, token: str, now: float | None = None) -> bool:
        expires_text, _, mac = token.partition(".")
        if not expires_text.isdigit() or int(expires_text) < (now or time.time()):
            return False
        return hmac.compare_digest(mac, self._mac(connection_id, int(expires_text)))
