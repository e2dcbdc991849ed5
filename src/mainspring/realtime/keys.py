"""The keys that sign and check subscription tokens.

- Production (`mainspring start`): derived from the signing key, HMAC-SHA256 keyed with the
  key's bytes over a fixed label. Every process of a cluster holds the signing key already, so
  each checks the others' tokens with no shared state; during a rotation the fallback key's
  derivation is accepted too; replacing the signing key revokes every outstanding token. The
  derivation is one-way: a token in a browser reveals nothing about the signing key, and a
  token key can sign nothing an app would accept.
- Dev (`mainspring dev`): 32 random bytes made once per database and stored in it
  (`server_secrets`), so every process on one PostgreSQL database agrees and restarts keep
  tokens valid. Dev mode has no authentication, so anyone may ask for a token anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from mainspring.clock import Clock
from mainspring.protocol.signing import strip_prefix
from mainspring.store.base import Connector
from mainspring.store.repos import secrets as stored

LABEL = b"mainspring realtime subscription tokens v1"
DEV_SECRET_NAME = "realtime-token-key"


def derived(signing_key: str) -> bytes:
    """The token key of one signing key (hex, with or without its `signkey-<env>-` prefix)."""
    return hmac.new(bytes.fromhex(strip_prefix(signing_key)), LABEL, hashlib.sha256).digest()


async def dev_key(connector: Connector, clock: Clock) -> bytes:
    candidate = secrets.token_hex(32)
    found = await connector.write(
        lambda tx: stored.get_or_create(tx, DEV_SECRET_NAME, candidate, clock())
    )
    return bytes.fromhex(found)
