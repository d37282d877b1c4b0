"""The project's ground (`core/`): plain functions of plain values, no database."""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine

from core.dates import today_in
from core.languages import language_choose, languages_offered
from core.query import day_parse, id_parse, query_date, query_id

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


# The language a person is spoken to in ---------------------------------------------------

KNOWN = {"fr", "en"}


def choose(salon: list[str], **values: str) -> str:
    return language_choose(salon, known=KNOWN, default="en", **values)


def test_a_person_is_spoken_to_in_their_own_language_when_the_site_speaks_it() -> None:
    assert choose(["fr"], person="en", browser="fr") == "en"
    assert choose(["en", "fr"], person="fr") == "fr"


def test_a_person_in_a_language_the_site_does_not_speak_gets_the_salons_first() -> None:
    assert choose(["fr", "en"], person="de") == "fr"
    assert choose(["de", "en"], person="de") == "en"


def test_a_visitor_gets_the_browsers_language_when_the_salon_speaks_it() -> None:
    assert choose(["fr", "en"], browser="en") == "en"
    assert choose(["fr", "en"], browser="en-gb") == "en"
    assert choose(["fr"], browser="en") == "fr"
    assert choose(["fr", "en"], browser="") == "fr"


def test_a_salon_speaking_no_known_language_is_spoken_for_in_the_default() -> None:
    assert choose(["de"], browser="fr") == "en"
    assert choose([], person="") == "en"
    assert languages_offered(["de", "fr", "xx"], known=KNOWN, default="en") == ["fr"]
    assert languages_offered(["de"], known=KNOWN, default="en") == ["en"]


def test_the_languages_default_to_the_sites_settings() -> None:
    assert language_choose(["de"], browser="fr") == "en"
    assert language_choose(["fr", "en"], browser="en") == "en"


# Reading a query --------------------------------------------------------------------------


def test_a_query_date_is_required_well_formed_and_within_the_years_a_salon_books() -> None:
    errors: dict[str, list[str]] = {}
    assert query_date({"day": "2026-12-01"}, "day", errors) == dt.date(2026, 12, 1)
    assert errors == {}
    for raw, message in (
        ("", "This parameter is required (YYYY-MM-DD)."),
        ("tomorrow", "Give a date as YYYY-MM-DD."),
        ("2026-04-31", "Give a date as YYYY-MM-DD."),
        ("1999-12-31", "Give a date from the year 2000 to 2999."),
        ("9999-12-31", "Give a date from the year 2000 to 2999."),
    ):
        errors = {}
        assert query_date({"day": raw}, "day", errors) is None
        assert errors == {"day": [message]}


def test_a_query_id_is_optional_and_a_whole_number_a_database_holds() -> None:
    errors: dict[str, list[str]] = {}
    assert query_id({}, "staff", errors) is None
    assert query_id({"staff": "42"}, "staff", errors) == 42
    assert errors == {}
    for raw in ("-1", "4.2", "²", "\u0661", "1" * 19):
        errors = {}
        assert query_id({"staff": raw}, "staff", errors) is None
        assert errors == {"staff": ["Give a whole number."]}


def test_a_page_reads_a_bad_value_as_absent() -> None:
    assert id_parse("7") == 7
    assert id_parse(None) is None
    assert id_parse("²") is None
    assert day_parse("2026-03-29") == dt.date(2026, 3, 29)
    assert day_parse("2026-02-30") is None
    assert day_parse(None) is None
