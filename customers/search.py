"""Normalising what the front desk types, so a search finds the person however it's typed."""

import re
import unicodedata

import phonenumbers
from django.db.models import Q

_NOT_DIGIT = re.compile(r"\D")
_PHONE_LIKE = re.compile(r"^[\d\s().+\-/]+$")


def fold(text: str) -> str:
    """Lower case without accents: "Léa" and "LEA" both fold to "lea"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def phone_digits(e164: str) -> list[str]:
    """The digit strings a number is searched by: international and national forms."""
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return [_NOT_DIGIT.sub("", e164), _NOT_DIGIT.sub("", national)]


def search_text(*, name: str, email: str | None, phone: str | None) -> str:
    parts = [fold(name), (email or "").lower()]
    if phone:
        parts += phone_digits(phone)
    return " ".join(p for p in parts if p)


def search_filter(query: str, *, country: str | None) -> Q:
    """The customers a query typed at the desk means.

    A complete phone number, typed in any form, is that number (an exact, indexed match);
    a partial one matches its digits as typed; anything else matches part of the folded
    name or e-mail.
    """
    query = query.strip()
    if len(_NOT_DIGIT.sub("", query)) >= 3 and _PHONE_LIKE.match(query):
        try:
            number = phonenumbers.parse(query, country)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            return Q(phone=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        return Q(search_text__contains=_NOT_DIGIT.sub("", query))
    return Q(search_text__contains=fold(query))
