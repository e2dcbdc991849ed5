"""Run tokens: who holds one may read that run's output (a durable endpoint's redirect target).

`<run id>.<purpose>.<expiry, unix s>.<hmac>`, keyed by a secret derived from the signing key (or
a fixed dev secret), so every process of a deployment, and the same process after a restart,
accepts the tokens it issued. During a key rotation a token made with the fallback key's secret
is still accepted (a caller waiting on a run's output across the server's switch keeps its link);
tokens are always issued with the current key's. Inngest signs a JWT for the same purpose; the
token is opaque to the SDK, which only passes it back.
"""

from __future__ import annotations

import hashlib
import hmac

from mainspring.protocol import signing

OUTPUT = "output"  # GET /v1/http/runs/{id}/output?token=
TTL_S = 24 * 3600  # Inngest: 1 h; a run that sleeps longer would lock its caller out
_DEV_SECRET = b"mainspring-dev-run-tokens"


def _secret(signing_key: str | None) -> bytes:
    base = signing.strip_prefix(signing_key).encode() if signing_key else _DEV_SECRET
    return hmac.new(base, b"mainspring-run-token-v1", hashlib.sha256).digest()


def _mac(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


class RunTokens:
    def __init__(self, signing_keys: tuple[str, ...] = ()) -> None:
        """`signing_keys`: the current key first, then the rotation fallback; none in dev."""
        self._secrets = [_secret(key) for key in signing_keys] or [_secret(None)]

    def issue(self, run_id: str, purpose: str, now_s: int) -> str:
        payload = f"{run_id}.{purpose}.{now_s + TTL_S}"
        return f"{payload}.{_mac(self._secrets[0], payload)}"

    def verify(self, token: str | None, purpose: str, now_s: int) -> str | None:
        """The run id `token` grants `purpose` on, or None (forged, expired, other purpose)."""
        parts = (token or "").split(".")
        if len(parts) != 4 or len(token or "") > 512:
            return None
        run_id, given_purpose, expiry, mac = parts
        payload = f"{run_id}.{given_purpose}.{expiry}"
        if not any(
            hmac.compare_digest(mac.encode(), _mac(secret, payload).encode())
            for secret in self._secrets
        ):
            return None
        if given_purpose != purpose or not expiry.isdigit() or int(expiry) < now_s:
            return None
        return run_id
