"""Sending a payment's pay link (deposits/paylinks.py) to the client: opened at the
provider, queued once in the outbox under the payment's key, and written in the booking's
audit trail."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from bookings.models import BookingEvent
from bookings.services import Actor, booking_event
from core.tasks import enqueue
from deposits.models import Payment
from deposits.paylinks import PaymentLink, pay_url
from deposits.payments import Checkout

from .models import Message, MessageKind
from .outbox import booking_context, language_for, message_queue, money_text
from .tasks import message_send


def payment_link_send(
    *, checkout: Checkout, via: str | None, actor: Actor, now: dt.datetime | None = None
) -> PaymentLink | None:
    """After the booking is committed and its payment opened at the provider
    (`deposits.checkout`): the link to pay it, queued for the client (sent once, after
    commit). None when nothing is due."""
    payment = checkout.payment
    if payment is None:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        message = payment_link_queue(payment=payment, via=via, actor=actor, now=now)
        enqueue(message_send, salon_id=payment.salon_id, message_id=message.pk)
    return PaymentLink(
        url=pay_url(payment),
        expires_at=checkout.booking.hold_expires_at or now,
        channel=message.channel or None,
        sent_to=message.recipient or None,
    )


def payment_link_queue(
    *,
    payment: Payment,
    via: str | None,
    actor: Actor,
    now: dt.datetime | None = None,
    event: BookingEvent | None = None,
) -> Message:
    """Inside the caller's transaction: the link to pay `payment`, queued once (under the
    payment's key) for the client, and the booking's audit trail saying so. The request
    that took the booking queues it; the reconcile sweep does when that request died
    before the provider was called (the `payment_link_due` event)."""
    booking = payment.booking
    now = now or timezone.now()
    url = pay_url(payment)
    expires_at = booking.hold_expires_at or now
    language = language_for(booking.customer, booking.salon)
    key = f"payment_link:{payment.pk}"
    if Message.objects.filter(key=key).exists():
        return Message.objects.get(key=key)
    message = message_queue(
        salon=booking.salon,
        customer=booking.customer,
        kind=MessageKind.PAYMENT_LINK,
        key=key,
        now=now,
        booking=booking,
        via=via,
        event=event,
        context={
            **booking_context(booking, language),
            "url": url,
            "amount": money_text(payment.amount, payment.currency, language),
            "expires": expires_at,
        },
        data={"payment": payment.pk, "expires_at": expires_at.isoformat()},
    )
    booking_event(
        booking,
        "payment_link_sent",
        actor=actor,
        by="system" if event is not None else "staff",
        channel=message.channel,
        expires_at=expires_at.isoformat(),
    )
    return message
