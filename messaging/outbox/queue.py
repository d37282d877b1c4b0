"""Writing a message in the outbox, once, under its key."""

import datetime as dt
from typing import Any

from bookings.models import Booking, BookingEvent
from customers.models import Channel, Customer
from customers.selectors import consent_current
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox.render import booking_context, contact_address, language_for, render
from messaging.outbox.rules import DEFERRABLE, NEEDS_CONSENT, REPLY_INVITED, quiet_until
from messaging.sms import replies_received
from tenants.models import Salon


def message_queue(
    *,
    salon: Salon,
    customer: Customer,
    kind: str,
    key: str,
    now: dt.datetime,
    booking: Booking | None = None,
    event: BookingEvent | None = None,
    via: str | None = None,
    context: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    skip: str = "",
) -> Message:
    """Write the message `key` once (a second call returns the first one): rendered now,
    sent as soon as the sender runs, after quiet hours for what can wait. Written as
    `skipped`, with the reason, when it must not or cannot be sent."""
    existing = Message.objects.filter(key=key).first()
    if existing is not None:
        return existing
    fields = _planned(
        salon=salon,
        customer=customer,
        kind=kind,
        now=now,
        booking=booking,
        event=event,
        via=via,
        context=context,
        data=data,
        skip=skip,
    )
    message, _created = Message.objects.get_or_create(salon=salon, key=key, defaults=fields)
    return message


def _planned(
    *,
    salon: Salon,
    customer: Customer,
    kind: str,
    now: dt.datetime,
    booking: Booking | None = None,
    event: BookingEvent | None = None,
    via: str | None = None,
    context: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    skip: str = "",
) -> dict[str, Any]:
    """The message's fields: rendered for its channel, or `skipped` with the reason."""
    fields: dict[str, Any] = {
        "customer": customer,
        "booking": booking,
        "event": event,
        "kind": kind,
        "data": data or {},
        "send_after": now,
    }
    purpose = NEEDS_CONSENT.get(MessageKind(kind))
    to = contact_address(customer, via)
    if not skip and customer.erased:
        skip = "The client's data was erased."
    if not skip and purpose and not consent_current(customer=customer).get(purpose):
        skip = "The client has not agreed to receive these messages."
    if not skip and to is None:
        skip = (
            "The client's only number is a landline, which cannot receive an SMS."
            if customer.phone
            else "The client left neither a phone number nor an e-mail address."
        )
    if skip or to is None:
        fields.update(status=MessageStatus.SKIPPED, status_detail=skip[:300])
    else:
        language = language_for(customer, salon)
        invite = to[0] == Channel.SMS and kind in REPLY_INVITED and replies_received()
        subject, body = render(
            kind,
            language,
            salon,
            {"customer": customer, "invite_reply": invite, **(context or {})},
        )
        fields.update(
            channel=to[0], recipient=to[1], language=language, subject=subject[:200], body=body
        )
        if kind in DEFERRABLE:
            fields["send_after"] = quiet_until(salon, now) or now
    return fields


def messages_queue_many(
    *,
    salon: Salon,
    kind: str,
    now: dt.datetime,
    messages: list[tuple[Customer, str, dict[str, Any], dict[str, Any]]],
) -> int:
    """`message_queue` for many clients at once, each (customer, key, context, data):
    two queries whatever their number (an offer to every client waiting for a time).
    A key written already is left as it is. Returns how many were written."""
    keys = [key for _c, key, _x, _d in messages]
    existing = set(Message.objects.filter(key__in=keys).values_list("key", flat=True))
    rows = [
        Message(
            salon=salon,
            key=key,
            **_planned(
                salon=salon, customer=customer, kind=kind, now=now, context=context, data=data
            ),
        )
        for customer, key, context, data in messages
        if key not in existing
    ]
    return len(Message.objects.bulk_create(rows, ignore_conflicts=True))


def booking_message(
    booking: Booking,
    kind: str,
    key: str,
    now: dt.datetime,
    event: BookingEvent | None = None,
    data: dict[str, Any] | None = None,
    **context: Any,
) -> Message:
    customer = booking.customer
    language = language_for(customer, booking.salon)
    return message_queue(
        salon=booking.salon,
        customer=customer,
        kind=kind,
        key=key,
        now=now,
        booking=booking,
        event=event,
        context={**booking_context(booking, language), **context},
        data=data,
    )


def message_withdraw(*, key: str, why: str) -> int:
    """A message not sent yet that has no reason to go any more (an offer that lapsed or
    was taken while it waited for the end of quiet hours) is skipped, with the reason."""
    return int(
        Message.objects.filter(key=key, status=MessageStatus.PENDING).update(
            status=MessageStatus.SKIPPED, status_detail=why[:300]
        )
    )
