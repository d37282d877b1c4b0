"""Sending a payment's pay link (deposits/paylinks.py) to the client: opened at the
provider, queued once in the outbox under the payment's key, and written in the booking's
audit trail."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking, BookingEvent, Status
from bookings.services import Actor, booking_event
from core.errors import Invalid
from core.tasks import enqueue
from customers.selectors import link_channel
from deposits.models import Payment, PaymentStatus
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
    key: str | None = None,
    kind: str = "payment_link_sent",
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
    key = key or f"payment_link:{payment.pk}"
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
        kind,
        actor=actor,
        by="system" if event is not None else "staff",
        channel=message.channel,
        expires_at=expires_at.isoformat(),
    )
    return message


# A link sent again (or by the other way) at most this often, and this many times a booking:
# staff answer a client who lost it, a script cannot flood her phone.
RESEND_EVERY = dt.timedelta(minutes=2)
RESENDS_MAX = 5
_SENT = ("payment_link_sent", "payment_link_resent")


def payment_link_resend(
    *, booking: Booking, via: str | None, actor: Actor, now: dt.datetime | None = None
) -> PaymentLink:
    """The same pay link sent again to the client of a booking awaiting it, by `via` (the
    other way: SMS or e-mail), or the client's preferred way; never an SMS to a landline.
    Rate-limited per booking (RESEND_EVERY, RESENDS_MAX). Raises Invalid: `send_via` when
    there is nowhere to send it, as a whole when nothing is awaited or it was just sent."""
    now = now or timezone.now()
    with transaction.atomic():
        # The booking's row, locked: two resends at once are counted one after the other.
        locked = (
            Booking.objects.select_for_update(no_key=True, of=("self",))
            .select_related("salon", "customer", "service", "staff")
            .get(pk=booking.pk)
        )
        payment = (
            Payment.objects.filter(booking=locked, status=PaymentStatus.PENDING)
            .exclude(intent_id=None)
            .first()
        )
        if locked.status != Status.PENDING_PAYMENT or payment is None:
            raise Invalid([_("This booking is no longer awaiting a payment.")])
        channel = link_channel(locked.customer, via)
        sent = BookingEvent.objects.filter(booking=locked, kind__in=_SENT)
        if sent.filter(at__gt=now - RESEND_EVERY).exists():
            raise Invalid(
                [_("The link was sent less than two minutes ago: give it a moment to arrive.")]
            )
        resent = sent.filter(kind="payment_link_resent").count()
        if resent >= RESENDS_MAX:
            raise Invalid(
                [
                    _(
                        "The link was sent %(n)s times already: take the deposit at the desk, "
                        "or waive it."
                    )
                    % {"n": resent + 1}
                ]
            )
        payment.booking = locked
        message = payment_link_queue(
            payment=payment,
            via=channel,
            actor=actor,
            now=now,
            key=f"payment_link:{payment.pk}:resend:{resent + 1}",
            kind="payment_link_resent",
        )
        enqueue(message_send, salon_id=payment.salon_id, message_id=message.pk)
    return PaymentLink(
        url=pay_url(payment),
        expires_at=locked.hold_expires_at or now,
        channel=message.channel or None,
        sent_to=message.recipient or None,
    )
