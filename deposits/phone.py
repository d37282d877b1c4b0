"""Bookings taken by phone: the front desk books for a client who is not online, and the
deposit follows by a payment link, is paid at the desk, or is waived (DESIGN.md, flows).

The link is a signed URL to the pay page; the booking holds its slot until the link
expires (the policy's `payment_link_hours`, and never past the appointment's start), then
the hold sweep frees it and the client is told. The link is revoked when the booking is
cancelled or the client erased, and stops working some time after the appointment
(bookings.tokens). Who did what, and why a deposit was waived, is in the booking's audit trail.

The booking itself is placed by `deposits.checkout.checkout_place`, as every booking is;
here are its phone steps (`phone_booking_take`), the link and the pay token.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from bookings.models import BookingEvent, Service, Source, StaffMember, Status
from bookings.services import Actor, booking_event
from bookings.tokens import link_expires_at
from core.tasks import enqueue
from customers.models import Channel, Customer
from deposits.models import Payment
from deposits.payments import Checkout, checkout_at_desk, checkout_hold
from deposits.selectors import policy_get
from messaging.models import Message, MessageKind
from messaging.outbox import booking_context, language_for, message_queue, money_text
from messaging.tasks import message_send
from tenants.models import Salon


class DepositHandling:
    PAYMENT_LINK = "payment_link"
    PAID_AT_DESK = "paid_at_desk"
    WAIVED = "waived"
    CHOICES = (PAYMENT_LINK, PAID_AT_DESK, WAIVED)


_SALT = "support.pay"
_NONCE_PART = 12


def pay_token(payment: Payment) -> str:
    """The pay link's credential: the payment, and part of its booking's link nonce, so
    that drawing a new nonce (the client's erasure) revokes it with the manage link."""
    nonce = payment.booking.manage_nonce[:_NONCE_PART]
    return signing.dumps({"s": payment.salon_id, "p": payment.pk, "n": nonce}, salt=_SALT)


def pay_token_read(token: str) -> tuple[int, int, str | None] | None:
    """(salon id, payment id, nonce part) of a genuine token, or None. The nonce part is
    None in links sent before it was signed in. Within its lifetime the link's expiry is
    the booking's hold: the pay page checks it, so a late click is told, not refused
    blindly."""
    try:
        data = signing.loads(token, salt=_SALT)
        nonce = data.get("n")
        return int(data["s"]), int(data["p"]), None if nonce is None else str(nonce)
    except (signing.BadSignature, AttributeError, KeyError, TypeError, ValueError):
        return None


def pay_url(payment: Payment) -> str:
    return f"{settings.SITE_URL}/pay/{pay_token(payment)}/"


@dataclass(frozen=True)
class PaymentLink:
    url: str
    expires_at: dt.datetime
    message: Message


def contact_for(customer: Customer, via: str | None) -> str | None:
    """The address a link would go to by `via` (or the client's preferred way), or None."""
    if via == Channel.SMS:
        return str(customer.phone) if customer.phone else None
    if via == Channel.EMAIL:
        return customer.email or None
    return str(customer.phone or "") or customer.email or None


def phone_booking_take(
    *,
    salon: Salon,
    actor: Actor,
    service: Service,
    start: dt.datetime,
    customer: Customer,
    staff: StaffMember | None,
    deposit_handling: str,
    waiver_reason: str = "",
    payment_option: str = "deposit",
    notes: str = "",
) -> Checkout:
    """Inside the caller's transaction: the booking, with its deposit handled as staff
    chose. With a payment link, the slot is held until the link expires; paid at the desk
    or waived, the booking is confirmed at once."""
    if deposit_handling == DepositHandling.PAYMENT_LINK:
        policy, _steps = policy_get(salon=salon)
        checkout = checkout_hold(
            salon=salon,
            service=service,
            start=start,
            customer=customer,
            staff=staff,
            payment_option=payment_option,
            source=Source.PHONE,
            notes=notes,
            actor=actor,
            hold_for=dt.timedelta(hours=policy.payment_link_hours),
        )
    else:
        checkout = checkout_at_desk(
            salon=salon,
            service=service,
            start=start,
            customer=customer,
            staff=staff,
            actor=actor,
            waived=deposit_handling == DepositHandling.WAIVED,
            reason=waiver_reason,
            payment_option=payment_option,
            notes=notes,
        )
    booking_event(
        checkout.booking,
        "taken_by_phone",
        actor=actor,
        by="staff",
        deposit_handling=deposit_handling,
    )
    return checkout


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
        url=pay_url(payment), expires_at=checkout.booking.hold_expires_at or now, message=message
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
    if Message.objects.with_scope(salon=booking.salon_id).filter(key=key).exists():
        return Message.objects.with_scope(salon=booking.salon_id).get(key=key)
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


def payment_for_link(token: str, now: dt.datetime | None = None) -> Payment | None:
    """The payment a pay link names, or None for a forged, mangled or revoked link (the
    booking cancelled, the client erased) or one past its lifetime (bookings.tokens)."""
    ids = pay_token_read(token)
    if ids is None:
        return None
    salon_id, payment_id, nonce = ids
    payment = (
        Payment.objects.with_scope(salon=salon_id)
        .select_related("booking__salon", "booking__service", "booking__staff", "booking__customer")
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        return None
    booking = payment.booking
    if nonce is not None and not constant_time_compare(booking.manage_nonce[:_NONCE_PART], nonce):
        return None
    if (
        booking.status == Status.CANCELLED
        or booking.customer.erased
        or link_expires_at(booking) <= (now or timezone.now())
    ):
        return None
    return payment
