"""Environment names: which one a request means, and the names its store and channels take.

Inngest's SDKs send `X-Inngest-Env` (from `INNGEST_ENV`); branch environments are usually
named after a git branch (`feature/login`), so a name may hold `/`, `.` and `-`. A store slug
keeps such a name apart from a look-alike (`feature/login` vs `feature-login`) by a hash.
"""

from __future__ import annotations

import hashlib
import re

from mainspring import errors

DEFAULT = "production"  # the environment a request that names none is in
HEADER = "x-inngest-env"
QUERY = "env"
COOKIE = "mainspring_env"
MAX_NAME = 64
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_UNSAFE = re.compile(r"[^a-z0-9]+")


def check(name: object, field: str = "env") -> str:
    """The name, or InvalidInput naming `field`."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME or not _NAME.match(name):
        raise errors.InvalidInput(
            f"an environment name is 1-{MAX_NAME} characters of letters, digits, '.', '_', "
            "'/' and '-', starting with a letter or digit",
            field=field,
        )
    return name


def slug(name: str) -> str:
    """`[a-z0-9_]`, ≤ 37 characters, one per name: for file names, schemas and channels. The
    digest has 64 bits: a branch name made to collide with another environment's store (the
    readable part alike, as every `dependabot/npm_and_yarn/…` is) is out of reach; the longest
    channel, `mainspring_operations_<slug>`, stays under PostgreSQL's 63 characters."""
    readable = _UNSAFE.sub("_", name.lower()).strip("_")[:20] or "env"
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{readable}_{digest}"
