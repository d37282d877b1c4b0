"""How the client pages write calendar entries: plain functions over values. Money is
written by `core.money.money_format` (the `money` template filter)."""

import datetime as dt

import icalendar


def ics_event(
    *,
    uid: str,
    start: dt.datetime,
    end: dt.datetime,
    summary: str,
    location: str,
    description: str,
    url: str,
    stamp: dt.datetime,
) -> str:
    """One appointment as an iCalendar file (VCALENDAR with one VEVENT), times in UTC;
    escaping and line folding are the `icalendar` library's (RFC 5545)."""
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//Acompte//Booking//EN")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", start.astimezone(dt.UTC))
    event.add("dtend", end.astimezone(dt.UTC))
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("url", url)
    calendar.add_component(event)
    return calendar.to_ical().decode()
