"""Signed session cookies and their CSRF tokens (explicit instants, no sleeping)."""

from __future__ import annotations

import base64

import pytest

from mainspring.api.auth import _safe_next
from mainspring.auth.sessions import SessionSigner

KEY = "signkey-prod-" + "ab" * 32
NOW = 1_800_000_000


def test_a_session_reads_back_until_it_expires() -> None:
    signer = SessionSigner(KEY)
    cookie, session = signer.issue("admin", NOW, 60)
    assert signer.read(cookie, NOW + 59) == session
    assert signer.read(cookie, NOW + 60) is None


def test_tampered_foreign_and_garbage_cookies_are_refused() -> None:
    signer = SessionSigner(KEY)
    cookie, _ = signer.issue("read", NOW, 60)
    payload, mac = cookie.split(".")
    forged, _ = SessionSigner("cd" * 32).issue("admin", NOW, 60)
    # The last hex digit changed for certain (appending "0" left the cookie intact 1 time in 16).
    other_digit = "1" if mac[-1] == "0" else "0"
    tampered_mac = f"{payload}.{mac[:-1]}{other_digit}"
    for bad in (f"{payload}x.{mac}", tampered_mac, forged, "", "a.b.c", "x" * 5000):
        assert signer.read(bad, NOW) is None


def test_csrf_tokens_are_bound_to_the_session() -> None:
    signer = SessionSigner(KEY)
    _, one = signer.issue("admin", NOW, 60)
    _, two = signer.issue("admin", NOW, 60)
    assert signer.csrf_ok(one, signer.csrf_token(one))
    assert not signer.csrf_ok(one, signer.csrf_token(two))
    assert not signer.csrf_ok(one, None)
    assert not signer.csrf_ok(one, "")


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/runs?status=Failed", "/runs?status=Failed"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_redirects_stay_on_this_site(target: str | None, safe: str) -> None:
    assert _safe_next(target) == safe


def test_a_session_says_who_signed_in_and_older_cookies_still_read() -> None:
    signer = SessionSigner(KEY)
    cookie, session = signer.issue("admin", NOW, 60, "token:ann")
    assert signer.read(cookie, NOW) == session and session.who == "token:ann"
    # A cookie issued before sessions named their credential: same fields but `who`.
    payload = base64.urlsafe_b64encode(b'{"sid":"s1","scope":"read","exp":1800000060}')
    text = payload.rstrip(b"=").decode()
    old = signer.read(f"{text}.{signer._mac(text)}", NOW)
    assert old is not None and old.scope == "read" and old.who == ""


def test_a_session_carries_the_environments_of_its_token() -> None:
    signer = SessionSigner(KEY)
    cookie, session = signer.issue("read", NOW, 60, "token:stg", ("staging",))
    read = signer.read(cookie, NOW)
    assert read == session and read is not None and read.envs == ("staging",)
    everywhere, _ = signer.issue("admin", NOW, 60)
    assert (found := signer.read(everywhere, NOW)) is not None and found.envs is None
