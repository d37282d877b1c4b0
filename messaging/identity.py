"""Sending the one-time code that proves who a client is, and what proving it does.

The code and the proof are the CRM's (customers/identity.py); sending it is the outbox's,
so the orchestration lives here, above both.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking
from core.tasks import enqueue
from customers.identity import (
    CODE_MINUTES,
    Contact,
    contact_code_check,
    contact_code_issue,
)
from customers.models import Channel, Customer
from customers.services import customer_merge
from messaging.models import Message, MessageKind
from messaging.outbox import message_queue
from messaging.tasks import message_send
from tenants.models import Salon

REDACTED = "••••••"


def identity_code_send(*, salon: Salon, contact: Contact) -> None:
    """Send a code to `contact` when it is one of the salon's clients'; nothing otherwise.
    The caller answers the same in both cases."""
    with transaction.atomic():
        to_send = contact_code_issue(salon=salon, contact=contact)
        if to_send is None:
            return
        message = message_queue(
            salon=salon,
            customer=to_send.customer,
            kind=MessageKind.IDENTITY_CODE,
            key=f"identity_code:{uuid.uuid4().hex}",
            now=timezone.now(),
            via=to_send.channel,
            context={"code": to_send.code, "minutes": CODE_MINUTES},
        )
        enqueue(message_send, salon_id=salon.pk, message_id=message.pk)


def identity_prove(*, salon: Salon, contact: Contact, code: str) -> Customer:
    """The client who received `code` at `contact`; ValidationError otherwise. The code's
    text is then taken out of the messages that carried it."""
    customer = contact_code_check(salon=salon, contact=contact, code=code)
    Message.objects.filter(customer=customer, kind=MessageKind.IDENTITY_CODE).exclude(
        body=REDACTED
    ).update(body=REDACTED, subject="")
    return customer


def booking_contact(*, booking: Booking, channel: str | None = None) -> Contact:
    """The contact of the booking a code for it goes to: the one asked for, else the
    client's preferred one, else the other one given."""
    customer = booking.customer
    if customer.erased:
        raise ValidationError({"channel": [_("This booking has no contact to send a code to.")]})
    first = channel or customer.preferred_channel
    for each in [first] + [c for c in (Channel.SMS, Channel.EMAIL) if c != first]:
        value = customer.phone if each == Channel.SMS else customer.email
        if value:
            return Contact(each, str(value))
    raise ValidationError({"channel": [_("This booking has no contact to send a code to.")]})


def booking_prove(*, booking: Booking, contact: Contact, code: str) -> Customer:
    """The client of a booking proved who she is with a code sent to the booking's
    contact, which is that client's on file: a booking an unproven record held (made
    online with her contact details) becomes hers, since the one who holds its link has
    now proved the contact. ValidationError for a wrong code."""
    customer = identity_prove(salon=booking.salon, contact=contact, code=code)
    if booking.customer_id != customer.pk:
        held_by = booking.customer
        if held_by.unproven:
            customer_merge(source=held_by, into=customer, fill_contact=False)
        booking.refresh_from_db()
    return customer
