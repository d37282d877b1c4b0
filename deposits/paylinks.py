"""A payment's pay link: a signed URL to the pay page, naming the payment and part of its
booking's link nonce, so that what revokes the manage link (the booking cancelled, the
client erased) revokes it too; it stops working some time after the appointment
(bookings.tokens)."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from bookings.models import Status
from bookings.tokens import link_expires_at

from .models import Payment


@dataclass(frozen=True)
class PaymentLink:
    """A pay link as it went out: where it leads, until when, by which way and to whom."""

    url: str
    expires_at: dt.datetime
    channel: str | None
    sent_to: str | None


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


def payment_for_link(token: str, now: dt.datetime | None = None) -> Payment | None:
    """The payment a pay link names, or None for a forged, mangled or revoked link (the
    booking cancelled, the client erased) or one past its lifetime (bookings.tokens)."""
    ids = pay_token_read(token)
    if ids is None:
        return None
    salon_id, payment_id, nonce = ids
    payment = (
        Payment.objects.select_related(
            "booking__salon", "booking__service", "booking__staff", "booking__customer"
        )
        .filter(pk=payment_id, salon_id=salon_id)
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
