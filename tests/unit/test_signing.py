"""Our signatures and bearer hashes against the official Python SDK's own code (the referee)."""

from __future__ import annotations

import json

import jcs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inngest._internal import net, transforms

from mainspring.protocol import signing

KEY = "signkey-prod-" + "0123456789abcdef" * 4
OTHER = "signkey-prod-" + "fedcba9876543210" * 4
BODIES = [
    b'{"b": 1, "a": [1, 2.5, "\\u00e9"]}',
    b'{"event":{"name":"x/y","data":{"n":-0.0001,"big":12345678901234}},"steps":{}}',
    b"{}",
]


@pytest.mark.parametrize("body", BODIES)
def test_request_signature_is_what_the_sdk_computes_and_accepts(body: bytes) -> None:
    ours = signing.signature(signing.canonical(json.loads(body)), KEY, 1_700_000_000)
    assert ours == net.sign_request(body, KEY, 1_700_000_000)
    # The SDK's validator, in cloud mode, with our signature on the raw (non-canonical) body.
    ok = net.validate_request_sig(
        body=body,
        headers={"x-inngest-signature": ours},
        mode=net.server_lib.ServerKind.CLOUD,
        signing_key=KEY,
        signing_key_fallback=None,
    )
    assert ok == KEY


def test_the_sdk_refuses_a_signature_under_another_key_unless_it_is_its_fallback() -> None:
    body = BODIES[0]
    ours = signing.signature(signing.canonical(json.loads(body)), OTHER, 1_700_000_000)
    headers = {"x-inngest-signature": ours}
    cloud = net.server_lib.ServerKind.CLOUD
    refused = net.validate_request_sig(
        body=body, headers=headers, mode=cloud, signing_key=KEY, signing_key_fallback=None
    )
    assert isinstance(refused, Exception)
    accepted = net.validate_request_sig(
        body=body, headers=headers, mode=cloud, signing_key=KEY, signing_key_fallback=OTHER
    )
    assert accepted == OTHER


@pytest.mark.parametrize(
    ("keys", "expected"),
    [((KEY,), True), ((OTHER,), False), ((OTHER, KEY), True), ((), False)],
)
def test_reply_signatures_are_checked_like_the_sdk_makes_them(
    keys: tuple[str, ...], expected: bool
) -> None:
    raw = b'{"answer": 42}'
    header = net.sign_response(raw, KEY, 1_700_000_000)
    assert isinstance(header, str)
    assert signing.verify(raw, header, keys) is expected
    assert signing.verify(raw + b" ", header, keys) is False


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (f"Bearer {transforms.hash_signing_key(KEY)}", True),  # Python: hash, no prefix
        (f"Bearer signkey-prod-{transforms.hash_signing_key(KEY)}", True),  # TS: with prefix
        (f"bearer {KEY}", True),  # the raw key, as Inngest's REST API accepts it
        (f"Bearer {KEY.removeprefix('signkey-prod-')}", True),
        (f"Bearer {transforms.hash_signing_key(OTHER)}", False),
        ("Bearer undefined", False),
        ("Bearer ", False),
        ("Basic abc", False),
        (None, False),
        (f"Bearer {transforms.hash_signing_key(KEY)[:-1]}", False),
    ],
)
def test_bearer_tokens(authorization: str | None, expected: bool) -> None:
    assert signing.bearer_matches(authorization, (KEY,)) is expected


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        (KEY, True),
        ("abcd", True),
        ("signkey-test-ab", True),
        ("abc", False),
        ("xyz", False),
        ("", False),
        ("signkey-prod-", False),
    ],
)
def test_signing_key_format(key: str, valid: bool) -> None:
    assert signing.is_valid_signing_key(key) is valid


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(json_values)
def test_canonical_form_equals_the_jcs_package(value: object) -> None:
    assert signing.canonical(value) == jcs.canonicalize(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\uffff": 2},  # UTF-16 order differs from code point order
        {"n": 2**53 + 1},  # JCS makes it a double
        {"f": 0.1 + 0.2, "g": 1e21, "h": -0.0},
        {"s": '\x00\x1f\x7f\u2028/\\"é😀'},
    ],
)
def test_canonical_form_edge_cases(value: object) -> None:
    assert signing.canonical(value) == jcs.canonicalize(value)
