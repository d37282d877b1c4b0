"""The project's ground (`core/`): plain functions of plain values, no database."""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine

from core.dates import today_in

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


def test_today_in_the_salon_is_the_wall_date_not_the_utc_date() -> None:
    late = dt.datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert today_in(PARIS, late) == dt.date(2026, 3, 3)
    assert today_in(NEW_YORK, late) == dt.date(2026, 3, 2)


def test_today_in_the_salon_turns_at_local_midnight_across_the_spring_change() -> None:
    # Paris moves from +01:00 to +02:00 on 2026-03-29 at 01:00 UTC.
    assert today_in(PARIS, dt.datetime(2026, 3, 28, 22, 59, tzinfo=UTC)) == dt.date(2026, 3, 28)
    assert today_in(PARIS, dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)) == dt.date(2026, 3, 29)
    # The next midnight is at 22:00 UTC, an hour earlier than the one before.
    assert today_in(PARIS, dt.datetime(2026, 3, 29, 21, 59, tzinfo=UTC)) == dt.date(2026, 3, 29)
    assert today_in(PARIS, dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)) == dt.date(2026, 3, 30)


def test_today_in_the_salon_holds_its_date_through_the_repeated_autumn_hour() -> None:
    # Paris goes back from +02:00 to +01:00 on 2026-10-25 at 01:00 UTC.
    for minutes in range(0, 180, 30):
        moment = dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC) + dt.timedelta(minutes=minutes)
        assert today_in(PARIS, moment) == dt.date(2026, 10, 25)
    assert today_in(PARIS, dt.datetime(2026, 10, 24, 21, 59, tzinfo=UTC)) == dt.date(2026, 10, 24)
    assert today_in(PARIS, dt.datetime(2026, 10, 25, 22, 59, tzinfo=UTC)) == dt.date(2026, 10, 25)
    assert today_in(PARIS, dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC)) == dt.date(2026, 10, 26)


def test_today_in_the_salon_without_an_instant_is_today_now() -> None:
    with time_machine.travel(dt.datetime(2026, 6, 30, 22, 30, tzinfo=UTC), tick=False):
        assert today_in(PARIS) == dt.date(2026, 7, 1)
        assert today_in(NEW_YORK) == dt.date(2026, 6, 30)

