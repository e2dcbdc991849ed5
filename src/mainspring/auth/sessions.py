"""Dashboard sessions as signed cookies, and CSRF tokens bound to them.

A session is `base64url(json{sid, scope, exp, who, envs}).hmac` keyed by a secret derived from
the signing key, so every process of a deployment accepts it without shared state. Logging out
clears the cookie; a copied cookie stays valid until it expires (`--session-ttl`), or until the
signing key is rotated (which ends every session). `envs` are the environments of the token
signed in with (absent: every one). The CSRF token is an HMAC of the session id: a page can
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
    envs: tuple[str, ...] | None = None  # the token's environments (None: every environment)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _envs(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise TypeError("envs")
    return tuple(str(name) for name in value)


class SessionSigner:
    def __init__(self, signing_key: str) -> None:
        self._secret = hmac.new(
            signing.strip_prefix(signing_key).encode(), b"mainspring-session-v1", hashlib.sha256
        ).digest()

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def issue(
        self,
        scope: str,
        now_s: int,
        ttl_s: int,
        who: str = "",
        envs: tuple[str, ...] | None = None,
    ) -> tuple[str, Session]:
        session = Session(secrets.token_hex(16), scope, now_s + ttl_s, who, envs)
        fields = {
            "sid": session.sid,
            "scope": scope,
            "exp": session.expires_at,
            "who": who,
            "envs": None if envs is None else list(envs),
        }
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
                envs=_envs(data.get("envs")),  # sessions issued before environments: all
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
