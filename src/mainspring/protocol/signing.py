"""Request signatures and bearer hashes, exactly as both official SDKs compute and check them.

* Server → app: `X-Inngest-Signature: t=<unix s>&s=<hex>`, HMAC-SHA256 keyed with the signing key
  *as ASCII text of its hex* (prefix `signkey-<env>-` removed), over the JCS (RFC 8785) form of the
  body followed by `str(t)`. Both SDKs re-canonicalize the parsed body before checking, so we send
  the canonical bytes we signed.
* App → server replies are signed the same way over the raw reply bytes (no canonicalization).
* App → server calls carry `Authorization: Bearer [signkey-<env>-]<sha256(bytes.fromhex(key))>`;
  Python drops the prefix, TypeScript keeps it, so the prefix is ignored when comparing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

import jcs
import orjson

SIGNATURE_HEADER = "X-Inngest-Signature"
_PREFIX = re.compile(r"^signkey-\w+-")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})+$")


def strip_prefix(key: str) -> str:
    match = _PREFIX.match(key)
    return key[match.end() :] if match else key


def is_valid_signing_key(key: str) -> bool:
    """An optional `signkey-<env>-` prefix, then a non-empty even-length hex string."""
    return bool(_HEX.match(strip_prefix(key)))


def bearer_hash(key: str) -> str:
    """What the SDKs send as bearer token for `key` (without the prefix)."""
    return hashlib.sha256(bytes.fromhex(strip_prefix(key))).hexdigest()


def fingerprint(secret: str) -> str:
    """A short, non-reversible label for logs: the first 12 hex chars of the secret's SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


_MAX_SAFE_INT = 2**53


def _orjson_is_jcs(body: Any) -> bool:
    """True when orjson's sorted output is byte-for-byte RFC 8785 for `body`: no floats (JCS
    formats them the ECMAScript way), no integers past 2**53 (JCS turns them into doubles), and
    no key outside the BMP (JCS sorts keys by UTF-16 code units, orjson by code points)."""
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not key.isascii() and max(key) > "\uffff":
                    return False
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, float):
            return False
        elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > _MAX_SAFE_INT:
            return False
    return True


def canonical(body: Any) -> bytes:
    """RFC 8785 bytes of `body`. The `jcs` package (what the Python SDK uses) is pure Python,
    about 150 ms per MiB; most call bodies qualify for orjson, ~20x faster, with equal output
    (property-tested against `jcs` in tests/unit/test_signing.py)."""
    if _orjson_is_jcs(body):
        try:
            return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # lone surrogates and other oddities: let jcs decide
            pass
    data: bytes = jcs.canonicalize(body)
    return data


def _mac(key: str, message: bytes, timestamp: int) -> str:
    mac = hmac.new(strip_prefix(key).encode(), message, hashlib.sha256)
    mac.update(str(timestamp).encode())
    return mac.hexdigest()


def signature(message: bytes, key: str, timestamp: int) -> str:
    """The header value for `message` (already canonical for requests; raw for replies)."""
    return f"t={timestamp}&s={_mac(key, message, timestamp)}"


def verify(message: bytes, header: str | None, keys: Iterable[str]) -> bool:
    """True when `header` is a valid signature of `message` under one of `keys`."""
    if not header:
        return False
    parsed = parse_qs(header)
    stamps, sigs = parsed.get("t"), parsed.get("s")
    if not stamps or not sigs or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    found = False
    for key in keys:  # every key is tried, so timing does not tell which one matched
        found |= hmac.compare_digest(sigs[0].encode(), _mac(key, message, timestamp).encode())
    return found


def bearer_matches(authorization: str | None, keys: Iterable[str]) -> bool:
    """`Authorization: Bearer …` carries the hash of one of `keys`, or the key itself.

    Either form, with or without a `signkey-…-` prefix; constant-time comparisons throughout.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    presented = strip_prefix(token.strip()).lower().encode()
    if not presented:
        return False
    found = False
    for key in keys:
        raw = strip_prefix(key).lower()
        found |= hmac.compare_digest(presented, bearer_hash(key).encode())
        found |= hmac.compare_digest(presented, raw.encode())
    return found
