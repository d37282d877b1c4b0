"""How the client pages write money and calendar entries: plain functions over values."""

import datetime as dt

from tenants.money import CURRENCY_EXPONENTS

# Symbols a client recognises; other currencies are written with their ISO code.
_SYMBOLS = {
    "en": {"EUR": "€", "GBP": "£", "USD": "$", "CAD": "CA$", "AUD": "A$", "CHF": "CHF "},
    "fr": {"EUR": "€", "GBP": "£", "USD": "$ US", "CAD": "$ CA", "AUD": "$ AU", "CHF": "CHF"},
}
NBSP = "\u00a0"
NNBSP = "\u202f"  # French groups thousands with a narrow no-break space


def money_for(cents: int, currency: str, language: str) -> str:
    """`1500, "EUR"` → "15,00 €" in French, "€15.00" in English (integer cents in)."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 10**exponent) if exponent else (abs(cents), 0)
    french = language.startswith("fr")
    grouped = f"{units:,}".replace(",", NNBSP if french else ",")
    number = grouped if not exponent else (
        f"{grouped}{',' if french else '.'}{rest:0{exponent}d}"
    )  # fmt: skip
    symbol = _SYMBOLS["fr" if french else "en"].get(currency)
    if french:
        return f"{sign}{number}{NBSP}{symbol or currency}"
    if symbol is None:
        return f"{sign}{currency}{NBSP}{number}"
    return f"{sign}{symbol}{number}"


def _ics_text(value: str) -> str:
    """RFC 5545 §3.3.11: backslash, semicolon and comma escaped, line breaks as \\n."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    )  # fmt: skip


def _ics_fold(line: str) -> str:
    """RFC 5545 §3.1: lines of at most 75 octets, continued with CRLF and a space; a
    multi-byte character is never split."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = "", 0, 74  # the leading space takes one octet
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def _ics_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ics_event(
    *, uid: str, start: dt.datetime, end: dt.datetime, summary: str, location: str,
    description: str, url: str, stamp: dt.datetime,
) -> str:  # fmt: skip
    """One appointment as an iCalendar file (VCALENDAR with one VEVENT), times in UTC."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Acompte//Booking//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{_ics_text(uid)}",
        f"DTSTAMP:{_ics_time(stamp)}",
        f"DTSTART:{_ics_time(start)}",
        f"DTEND:{_ics_time(end)}",
        f"SUMMARY:{_ics_text(summary)}",
        f"LOCATION:{_ics_text(location)}",
        f"DESCRIPTION:{_ics_text(description)}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_ics_fold(line) + "\r\n" for line in lines)
