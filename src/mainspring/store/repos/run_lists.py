"""Pages of runs for listings: one named query per indexed filter combination."""

from __future__ import annotations

from mainspring.store.base import Row, Tx


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
    if slug is not None:
        name = "runs_page_by_function"
    elif app is not None:
        name = "runs_page_by_app"
    else:
        name = "runs_page"
    if status is not None:
        name = f"{name}_status" if name != "runs_page" else "runs_page_by_status"
    return tx.fetchall(name, params)
