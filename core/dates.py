"""The calendar day in a place: "today in the salon" is written here once."""

import datetime as dt
from zoneinfo import ZoneInfo


def today_in(tz: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """The date on the wall in `tz` at the aware instant `now` (the current instant when
    absent)."""
    return (now if now is not None else dt.datetime.now(dt.UTC)).astimezone(tz).date()
