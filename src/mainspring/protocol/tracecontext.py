"""The W3C `traceparent` header of our calls to an app.

The TypeScript SDK captures userland spans (extended traces) only for a call that carries one:
it stamps it on every span as `inngest.traceparent`. The trace id is the run's ULID (its 128
bits in hex), the parent span id is derived from (run, step), so a run's spans share one trace.
"""

from __future__ import annotations

import hashlib
import string

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Crockford base32 → the digits `int(text, 32)` reads: decoding runs in C (a call's hot path).
_TO_BASE32 = str.maketrans(_CROCKFORD, (string.digits + string.ascii_lowercase)[:32])


def trace_id(run_id: str) -> str:
    if len(run_id) == 26 and run_id[0] in "01234567":
        try:
            return f"{int(run_id.translate(_TO_BASE32), 32):032x}"
        except ValueError:
            pass
    return hashlib.md5(run_id.encode(), usedforsecurity=False).hexdigest()  # not a ULID


def traceparent(run_id: str, step_id: str) -> str:
    span = hashlib.sha1(f"{run_id}:{step_id}".encode(), usedforsecurity=False).hexdigest()[:16]
    return f"00-{trace_id(run_id)}-{span}-01"
