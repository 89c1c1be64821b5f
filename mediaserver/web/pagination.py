"""What the JSON routes share: query parameters (whole numbers in a range, pages, sorting; a bad value is
a 400 JSON error naming the parameter: errors.py) and rows by id (a 404 JSON error when unknown)."""
from __future__ import annotations

from flask import abort, request
from sqlalchemy import func, select

from ..db import get_db

PER_PAGE_DEFAULT = 50  # one screen of the library page
PER_PAGE_MAX = 500  # bounds one response (each item carries its streams)


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """Query parameter `name` as an int in [lo, hi]; `default` when absent; 400 JSON otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"{name} must be a whole number, got {raw!r}")
    if not lo <= value <= hi:
        abort(400, f"{name} must be between {lo} and {hi}, got {value}")
    return value


def paginate(query, render) -> dict:
    """`{"items": [render(row)...], "total", "page", "per_page"}` from the `page`/`per_page` query
    parameters (400 JSON when out of range)."""
    page = int_arg("page", 1, 1, 10**9)
    per_page = int_arg("per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX)
    db = get_db()
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique()
    return {"items": [render(r) for r in rows], "total": total, "page": page, "per_page": per_page}


def ordering(columns: dict, default: str, tiebreak) -> tuple:
    """ORDER BY clauses from the `sort` (a key of `columns`) and `order` (`asc`/`desc`) query
    parameters, NULLs last on every database, then `tiebreak`; 400 JSON for unknown values."""
    sort, order = request.args.get("sort", default), request.args.get("order", "asc")
    if sort not in columns:
        abort(400, f"sort must be one of {', '.join(columns)}, got {sort!r}")
    if order not in ("asc", "desc"):
        abort(400, f"order must be asc or desc, got {order!r}")
    column = columns[sort]
    return (column.desc() if order == "desc" else column.asc()).nulls_last(), tiebreak


def get_or_404(model, row_id: int):
    """The `model` row of primary key `row_id`; 404 JSON ("movie 7 doesn't exist") when there is none."""
    row = get_db().get(model, row_id)
    if row is None:
        abort(404, f"{model.__name__.lower()} {row_id} doesn't exist")
    return row
