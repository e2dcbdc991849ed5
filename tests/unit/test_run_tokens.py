"""Run tokens (a durable endpoint's output link) across a signing-key rotation."""

from __future__ import annotations

from mainspring.protocol.run_tokens import OUTPUT, TTL_S, RunTokens

OLD = "signkey-prod-" + "ab" * 32
NEW = "signkey-prod-" + "cd" * 32
NOW = 1_800_000_000


def test_a_token_of_the_old_key_is_accepted_while_it_is_the_fallback() -> None:
    token = RunTokens((OLD,)).issue("01RUN", OUTPUT, NOW)
    assert RunTokens((NEW, OLD)).verify(token, OUTPUT, NOW) == "01RUN"
    assert RunTokens((NEW,)).verify(token, OUTPUT, NOW) is None  # fallback dropped: revoked


def test_tokens_are_issued_with_the_current_key() -> None:
    token = RunTokens((NEW, OLD)).issue("01RUN", OUTPUT, NOW)
    assert RunTokens((NEW,)).verify(token, OUTPUT, NOW) == "01RUN"
    assert RunTokens((OLD,)).verify(token, OUTPUT, NOW) is None


def test_forged_expired_and_other_purpose_tokens_are_refused() -> None:
    tokens = RunTokens((NEW,))
    token = tokens.issue("01RUN", OUTPUT, NOW)
    _, purpose, expiry, mac = token.split(".")
    assert tokens.verify(f"01OTHER.{purpose}.{expiry}.{mac}", OUTPUT, NOW) is None
    assert tokens.verify(token, "other", NOW) is None
    assert tokens.verify(token, OUTPUT, NOW + TTL_S + 1) is None
    assert tokens.verify(None, OUTPUT, NOW) is None
    assert RunTokens().verify(token, OUTPUT, NOW) is None  # dev's secret is not the key's
