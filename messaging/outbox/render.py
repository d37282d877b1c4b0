"""A message's words: its template in the client's language, the salon's time, the money."""

from typing import Any

from django.template.loader import select_template
from django.utils import timezone, translation

from bookings.models import Booking
from bookings.selectors import booking_staff_names, booking_title
from bookings.services import manage_url
from core.languages import language_choose
from core.money import money_format
from customers.models import Channel, Customer
from customers.selectors import phone_is_landline
from deposits.agreements import booking_terms, terms_message_line
from tenants.models import Salon


def money_text(cents: int, currency: str, language: str) -> str:
    """An amount in a message, written as every page writes it (core.money)."""
    return money_format(cents, currency, language)


def language_for(customer: Customer, salon: Salon) -> str:
    return language_choose(salon.languages, person=customer.language)


def render(kind: str, language: str, salon: Salon, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a message in the client's language, times in the salon's zone.
    A template's first line is the subject (e-mail only)."""
    template = select_template([f"messages/{language}/{kind}.txt", f"messages/en/{kind}.txt"])
    with translation.override(language), timezone.override(salon.tz):
        text = template.render({"salon": salon, **context})
    subject, _newline, body = text.strip().partition("\n")
    return subject.strip(), "\n".join(line.rstrip() for line in body.strip().splitlines())


def contact_address(customer: Customer, via: str | None) -> tuple[str, str] | None:
    """(channel, address): the channel asked for, else the client's preferred one, else
    the other one they gave us; never an SMS to a landline (it cannot receive one)."""
    first = via or customer.preferred_channel
    order = [first] + [c for c in (Channel.SMS, Channel.EMAIL) if c != first]
    for channel in order:
        if channel == Channel.SMS:
            address = "" if phone_is_landline(customer.phone) else customer.phone
        else:
            address = customer.email
        if address:
            return channel, str(address)
    return None


def booking_context(booking: Booking, language: str) -> dict[str, Any]:
    return {
        "booking": booking,
        "service": booking_title(booking),
        "staff": booking_staff_names(booking),
        "start": booking.start,
        "manage_url": manage_url(booking),
        "price": money_text(booking.price, booking.currency, language),
        "deposit_terms": terms_message_line(booking, language),
        "deposit_kind": terms.deposit_kind if (terms := booking_terms(booking)) else "",
    }
