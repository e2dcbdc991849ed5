"""Dashboard sessions as signed cookies, and CSRF tokens bound to them.

A session is `base64url(json{sid, scope, exp}).hmac` keyed by a secret derived from the signing
key, so every process of a deployment accepts it without shared state. Logging out clears the
cookie; a copied cookie stays valid until it expires (`--session-ttl`), or until the signing key
is rotated (which ends every session). The CSRF token is an HMAC of the session id: a page can
only carry it if it was rendered for that session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import orjson

from mainspring.protocol import signing

COOKIE = "mainspring_session"
LOGIN_CSRF_COOKIE = "mainspring_login_csrf"


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    scope: str
    expires_at: int  # unix seconds
    who: str = ""  # the credential signed in with (`token:ops`, `signing-key`): the audit's actor


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, signing_key: str) -> None:
        self._secret = hmac.new(
            signing.strip_prefix(signing_key).encode(), b"mainspring-session-v1", hashlib.sha256
        ).digest()

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, scope: str, now_s: int, ttl_s: int, who: str = "") -> tuple[str, Session]:
        session = Session(sid=secrets.token_hex(16), scope=scope, expires_at=now_s + ttl_s, who=who)
        fields = {"sid": session.sid, "scope": scope, "exp": session.expires_at, "who": who}
        payload = _b64(orjson.dumps(fields))
        return f"{payload}.{self._mac(payload)}", session

    def read(self, cookie: str | None, now_s: int) -> Session | None:
        if not cookie or cookie.count(".") != 1 or len(cookie) > 1024:
            return None
        payload, mac = cookie.split(".")
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):  # bytes: any text
            return None
        try:
            data = orjson.loads(_unb64(payload))
            session = Session(
                sid=str(data["sid"]),
                scope=str(data["scope"]),
                expires_at=int(data["exp"]),
                who=str(data.get("who", "")),  # sessions issued before the audit log: ""
            )
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            return None
        return session if session.expires_at > now_s else None

    def csrf_token(self, session: Session) -> str:
        return self._mac(f"csrf:{session.sid}")[:40]

    def csrf_ok(self, session: Session, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            str(presented).encode(), self.csrf_token(session).encode()
        )
