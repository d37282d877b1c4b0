"""Bookings taken by phone: the front desk books for a client who is not online, and the
deposit follows by a payment link, is paid at the desk, or is waived (DESIGN.md, flows).

The link (deposits/paylinks.py, sent by messaging/paylinks.py) is a signed URL to the
pay page; the booking holds its slot until the link
expires (the policy's `payment_link_hours`, and never past the appointment's start), then
the hold sweep frees it and the client is told. The link is revoked when the booking is
cancelled or the client erased, and stops working some time after the appointment
(bookings.tokens). Who did what, and why a deposit was waived, is in the booking's audit trail.
"""

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from bookings.models import Service, Source, StaffMember
from bookings.services import Actor, booking_event
from core.retry import atomic_retried
from customers.models import Customer
from deposits.payments import Checkout, checkout_at_desk, checkout_hold
from deposits.selectors import policy_get
from messaging.paylinks import PaymentLink, contact_for, payment_link_send
from tenants.models import Salon


class DepositHandling:
    PAYMENT_LINK = "payment_link"
    PAID_AT_DESK = "paid_at_desk"
    WAIVED = "waived"
    CHOICES = (PAYMENT_LINK, PAID_AT_DESK, WAIVED)


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


def phone_booking_place(
    *,
    salon: Salon,
    actor: Actor,
    resolve: Callable[[], tuple[Service, StaffMember | None, Customer]],
    start: dt.datetime,
    deposit_handling: str,
    waiver_reason: str = "",
    payment_option: str = "deposit",
    notes: str = "",
    send_via: str | None = None,
) -> tuple[Checkout, PaymentLink | None]:
    """A booking taken by phone from start to end, as the API and the desk pages take it.

    `resolve` names the service, staff member and client inside the booking's transaction,
    so a client created on the call is kept only with their booking. Then, committed, the
    payment link goes out when the deposit is to be paid by link.

    Raises ValidationError (by field: `send_via` for a client with nowhere to send the link
    to, `waiver_reason`, `payment_option`, or the resolver's own), SlotTaken when the
    time was just taken, ProviderUnavailable when the provider fails.
    """

    def take() -> Checkout:  # one transaction, run again if aborted for a deadlock
        service, staff, customer = resolve()
        if deposit_handling == DepositHandling.PAYMENT_LINK and not contact_for(customer, send_via):
            raise ValidationError(
                {
                    "send_via": [
                        _("This client has no phone number or e-mail address to send the link to.")
                    ]
                }
            )
        return phone_booking_take(
            salon=salon,
            actor=actor,
            service=service,
            start=start,
            customer=customer,
            staff=staff,
            deposit_handling=deposit_handling,
            waiver_reason=waiver_reason,
            payment_option=payment_option,
            notes=notes,
        )

    checkout = atomic_retried(take)
    link = None
    if deposit_handling == DepositHandling.PAYMENT_LINK:
        link = payment_link_send(checkout=checkout, via=send_via, actor=actor)
    return checkout, link
