"""Reading a query string or a form's plain values, written once for every door: the APIs
collect errors by parameter (answered 400 in API.md's shape), the pages fall back to a
default instead.

A day is one from 2000 to 2999: days at the edge of what `date` holds overflow as soon as
a day or a time zone is added to them, and nothing a salon books lies outside."""

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_date

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def day_parse(raw: Any) -> dt.date | None:
    """`YYYY-MM-DD` as a date; None when absent, malformed or impossible (April 31)."""
    try:
        return parse_date(str(raw or ""))
    except ValueError:
        return None


def id_parse(raw: Any) -> int | None:
    """A whole number written in ASCII digits that a database id can hold; else None."""
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def query_date(params: Any, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    """The required date `name`; a missing, malformed or out-of-range one is an error."""
    raw = params.get(name)
    if raw in (None, ""):
        errors[name] = ["This parameter is required (YYYY-MM-DD)."]
        return None
    parsed = day_parse(raw)
    if parsed is None:
        errors[name] = ["Give a date as YYYY-MM-DD."]
    elif not FIRST_DAY <= parsed <= LAST_DAY:
        errors[name] = ["Give a date from the year 2000 to 2999."]
        return None
    return parsed


def query_id(params: Any, name: str, errors: dict[str, list[str]]) -> int | None:
    """The optional id `name`; one that is not a whole number is an error."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    parsed = id_parse(raw)
    if parsed is None:
        errors[name] = ["Give a whole number."]
    return parsed


def query_ids(params: Any, name: str, errors: dict[str, list[str]]) -> list[int] | None:
    """The optional comma-separated ids `name` (`3,5`), in the order given."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    parsed = [id_parse(part.strip()) for part in str(raw).split(",")]
    if not parsed or any(pk is None for pk in parsed):
        errors[name] = ["Give whole numbers separated by commas."]
        return None
    return [pk for pk in parsed if pk is not None]


def query_count(params: Any, name: str, errors: dict[str, list[str]], *, most: int) -> int | None:
    """The optional whole number `name`, from 0 to `most`."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    parsed = id_parse(raw) if raw != "0" else 0
    if parsed is None or not 0 <= parsed <= most:
        errors[name] = [f"Give a whole number from 0 to {most}."]
        return None
    return parsed
