"""Run tokens: who holds one may read that run's output (a durable endpoint's redirect target).

`<run id>.<purpose>.<expiry, unix s>.<hmac>`, keyed by a secret derived from the signing key (or
a fixed dev secret), so every process of a deployment, and the same process after a restart,
accepts the tokens it issued. Inngest signs a JWT for the same purpose; the token is opaque to
the SDK, which only passes it back.
"""

from __future__ import annotations

import hashlib
import hmac

from mainspring.protocol import signing

OUTPUT = "output"  # GET /v1/http/runs/{id}/output?token=
TTL_S = 24 * 3600  # Inngest: 1 h; a run that sleeps longer would lock its caller out
_DEV_SECRET = b"mainspring-dev-run-tokens"


class RunTokens:
    def __init__(self, signing_key: str | None) -> None:
        base = signing.strip_prefix(signing_key).encode() if signing_key else _DEV_SECRET
        self._secret = hmac.new(base, b"mainspring-run-token-v1", hashlib.sha256).digest()

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, run_id: str, purpose: str, now_s: int) -> str:
        payload = f"{run_id}.{purpose}.{now_s + TTL_S}"
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str | None, purpose: str, now_s: int) -> str | None:
        """The run id `token` grants `purpose` on, or None (forged, expired, other purpose)."""
        parts = (token or "").split(".")
        if len(parts) != 4 or len(token or "") > 512:
            return None
        run_id, given_purpose, expiry, mac = parts
        payload = f"{run_id}.{given_purpose}.{expiry}"
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        if given_purpose != purpose or not expiry.isdigit() or int(expiry) < now_s:
            return None
        return run_id
