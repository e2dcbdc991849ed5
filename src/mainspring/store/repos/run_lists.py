"""Pages of runs for listings: one named query per indexed filter combination."""

from __future__ import annotations

from mainspring.store.base import Row, Tx


def _variant(prefix: str, status: str | None, slug: str | None, app: str | None) -> str:
    """The named query serving this combination of filters: `<prefix>[_by_…][_status]`."""
    if slug is not None:
        name = f"{prefix}_by_function"
    elif app is not None:
        name = f"{prefix}_by_app"
    else:
        return f"{prefix}_by_status" if status is not None else prefix
    return f"{name}_status" if status is not None else name


def page(
    tx: Tx,
    *,
    status: str | None,
    slug: str | None,
    app: str | None,
    lower: str,
    upper: str,
    limit: int,
) -> list[Row]:
    """Runs with id in [lower, upper), newest first, joined with their first event."""
    params = {
        "status": status,
        "slug": slug,
        "app": app,
        "lower": lower,
        "upper": upper,
        "limit": limit,
    }
    return tx.fetchall(_variant("runs_page", status, slug, app), params)


def count(
    tx: Tx, *, status: str | None, slug: str | None, app: str | None, lower: str, upper: str
) -> int:
    """How many runs with id in [lower, upper) match (every page of a listing together)."""
    params = {"status": status, "slug": slug, "app": app, "lower": lower, "upper": upper}
    row = tx.fetchone(_variant("runs_count", status, slug, app), params)
    return 0 if row is None else int(row["n"])
