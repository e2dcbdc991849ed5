"""Filters for listing runs (REST `GET /v1/runs`, `GET /v2/runs`, the dashboard's Runs page).

Pure parsing: every bad value raises InvalidInput naming its parameter. Run ids are ULIDs, so
"created in [after, before)" and the cursor are both bounds on the id, which lets every list be
read newest first from one index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ulid import ULID

from mainspring import errors, expressions
from mainspring.domain.durations import parse_instant_ms
from mainspring.domain.ids import ID_CEILING as ID_CEILING
from mainspring.domain.ids import ulid_floor as ulid_floor
from mainspring.domain.runs import RunStatus

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class RunFilter:
    statuses: tuple[str, ...] = ()
    function_slug: str | None = None
    app_id: str | None = None
    function_slugs: tuple[str, ...] = ()  # any of these functions (with `function_slug`)
    app_ids: tuple[str, ...] = ()  # any of these apps, by name or id (with `app_id`)
    lower_id: str = ulid_floor(0)
    upper_id: str = ID_CEILING
    query: str | None = None
    limit: int = DEFAULT_LIMIT


def scopes(flt: RunFilter) -> list[tuple[str | None, str | None]]:
    """The (function slug, app) pairs a listing reads, one index range each: the functions
    asked for, else the apps, else everything. A function filter makes the app filter moot."""
    slugs = (*((flt.function_slug,) if flt.function_slug else ()), *flt.function_slugs)
    if slugs:
        return [(slug, None) for slug in dict.fromkeys(slugs)]
    apps = (*((flt.app_id,) if flt.app_id else ()), *flt.app_ids)
    if apps:
        return [(None, app) for app in dict.fromkeys(apps)]
    return [(None, None)]


def _status(text: str) -> tuple[str, ...]:
    allowed = {status.value.lower(): status.value for status in RunStatus}
    found = []
    for part in text.split(","):
        key = part.strip().lower()
        if key not in allowed:
            message = f"status must be among {', '.join(sorted(allowed.values()))}"
            raise errors.InvalidInput(message, field="status")
        found.append(allowed[key])
    return tuple(dict.fromkeys(found))


def _instant(params: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        text = params.get(name)
        if text is None or text == "":
            continue
        if text.isdigit():
            return int(text)  # epoch milliseconds, as the dashboard may send
        try:
            return parse_instant_ms(text)
        except ValueError:
            raise errors.InvalidInput(f"{name} must be an RFC 3339 time", field=name) from None
    return None


def _limit(params: Mapping[str, str]) -> int:
    text = params.get("limit")
    if text is None or text == "":
        return DEFAULT_LIMIT
    if not text.isdigit() or int(text) < 1:
        raise errors.InvalidInput("limit must be a positive integer", field="limit")
    return min(int(text), MAX_LIMIT)  # larger asks are capped, as they always were


def _cursor(params: Mapping[str, str]) -> str | None:
    text = params.get("cursor")
    if text is None or text == "":
        return None
    try:
        return str(ULID.from_str(text))
    except ValueError:
        raise errors.InvalidInput("cursor must be a run id", field="cursor") from None


def _query(params: Mapping[str, str]) -> str | None:
    text = params.get("query")
    if text is None or text.strip() == "":
        return None
    try:
        expressions.compile_expression(text)
    except errors.InvalidInput as exc:
        raise errors.InvalidInput(f"query: {exc.message}", field="query") from None
    return text


def parse_run_filter(params: Mapping[str, str]) -> RunFilter:
    """Read `status` (comma list), `function_id`, `app_id`, `started_after`/`from`,
    `started_before`/`until`, `cursor`, `query` (CEL over `event`) and `limit`."""
    after = _instant(params, "started_after", "from")
    before = _instant(params, "started_before", "until")
    if after is not None and before is not None and after > before:
        message = "started_after is later than started_before"
        raise errors.InvalidInput(message, field="started_after")
    upper = ID_CEILING if before is None else ulid_floor(before + 1)
    cursor = _cursor(params)
    if cursor is not None and cursor < upper:
        upper = cursor
    status_text = params.get("status")
    return RunFilter(
        statuses=_status(status_text) if status_text else (),
        function_slug=params.get("function_id") or None,
        app_id=params.get("app_id") or None,
        lower_id=ulid_floor(after or 0),
        upper_id=upper,
        query=_query(params),
        limit=_limit(params),
    )
