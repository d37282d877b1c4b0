"""Book and pay: the one service every door that books goes through.

The booking API, the booking page, the manage page and API rebooking a booking cancelled
with credit, the phone booking API and the desk each read their request into a
`CheckoutRequest` (or a `Rebooking`), call `checkout_place`, and show what it returns. The
protocol lives here only:

1. one transaction, run again when PostgreSQL aborts it for a deadlock
   (`core.retry.atomic_retried`): the service, staff member and client the request names
   are resolved (a client created for it is kept only with its booking), then the booking
   is held while a payment is due (`checkout_hold`), taken with its deposit paid at the
   desk or waived (`phone_booking_take`), or, cancelled with credit, booked again and paid
   by the credit (`booking_rebook_with_credit`);
2. once committed, the payment is opened at the provider (`checkout_charge`); when the
   provider fails, the hold is released and `ProviderUnavailable` raised: nothing stays
   blocked (STYLE.md: no network call inside a transaction);

Only the domain's errors come out (core/errors.py): `Invalid`, shaped like the request
(`{"customer": {"phone": [...]}}`), `SlotTaken`, `ProviderUnavailable`. Each door answers
them in its one place: the API's handler (web/errors.py), the pages' (web/problems.py).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from bookings.models import Booking, Service, Source, StaffMember
from bookings.selectors import Catalogue, VisitPart, catalogue_get, visit_parts
from bookings.services import Actor, booking_event
from core.errors import Invalid
from core.retry import atomic_retried
from customers.identity import proof_holds
from customers.models import ConsentChannel, ConsentSource, Customer
from customers.selectors import link_channel
from customers.services import customer_find_or_create, customer_for_online_booking
from tenants.models import Salon

from .payments import (
    Checkout,
    booking_rebook_with_credit,
    checkout_at_desk,
    checkout_charge,
    checkout_hold,
)
from .selectors import policy_get

__all__ = [
    "CheckoutRequest",
    "CustomerDetails",
    "DepositHandling",
    "Guest",
    "Rebooking",
    "checkout_place",
    "checkout_resolve",
    "phone_booking_take",
]


class DepositHandling:
    PAYMENT_LINK = "payment_link"
    PAID_AT_DESK = "paid_at_desk"
    WAIVED = "waived"
    CHOICES = (PAYMENT_LINK, PAID_AT_DESK, WAIVED)


@dataclass(frozen=True)
class CustomerDetails:
    """The client as the person booking gives her, and what she agrees to receive."""

    name: str = ""
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    reminders_consent: bool = True
    marketing_consent: bool = False

    def consents(self) -> dict[str, bool]:
        consents = {"reminders": self.reminders_consent}
        if self.marketing_consent:
            consents["marketing"] = True
        return consents


@dataclass(frozen=True)
class Guest:
    """Another person in the same booking, with her own services."""

    name: str
    service_ids: tuple[int, ...]


@dataclass(frozen=True)
class CheckoutRequest:
    """A new booking and how it is paid, as a door read it.

    Online (no `actor`), the client pays now through the provider (`payment_option`:
    the deposit, or the full price when the salon allows it); the contact details typed
    prove nothing, and the booking is the `proven` client's only when she proved it: her
    credit then pays what it can of the amount due.
    Staff (`actor`, by phone or at the desk) book for a client they know, named by
    `customer_id` or found by her details, and say how the deposit is handled
    (`deposit_handling`: a link sent `send_via` the client's phone or e-mail, paid at the
    desk, or waived with a `waiver_reason`)."""

    salon: Salon
    service_id: int | None
    start: dt.datetime
    staff_id: int | None = None
    # A visit: the client's services in order (instead of `service_id`), and her guests.
    service_ids: tuple[int, ...] = ()
    guests: tuple[Guest, ...] = ()
    customer: CustomerDetails = field(default_factory=CustomerDetails)
    customer_id: int | None = None
    proven: Customer | None = None
    payment_option: str = "deposit"
    notes: str = ""
    actor: Actor = None
    deposit_handling: str | None = None
    waiver_reason: str = ""
    send_via: str | None = None
    # The door an online booking came through (bookings.models.Source); staff's is phone.
    channel: str = Source.WEB

    @property
    def by_staff(self) -> bool:
        return self.actor is not None

    @property
    def source(self) -> str:
        return Source.PHONE if self.by_staff else self.channel


@dataclass(frozen=True)
class Rebooking:
    """A booking cancelled with credit (or whose rebooking lapsed unpaid) booked again at
    `start`, paid by its credit; the client's other credit too once she `proven` it is her."""

    booking: Booking
    start: dt.datetime
    staff_id: int | None = None
    proven: bool = False


def checkout_place(request: CheckoutRequest | Rebooking) -> Checkout:
    """The booking, and its payment opened at the provider: confirmed
    when nothing is due or the money was taken at the desk, held while it is due.

    Raises Invalid (shaped like the request), SlotTaken when the time is not free (or was
    just taken), ProviderUnavailable when money is due and the provider failed (nothing
    kept)."""
    try:
        checkout = atomic_retried(lambda: _take(request))
    except Invalid:
        raise
    except ValidationError as exc:  # a model's or another service's own checks
        raise Invalid(_fields(exc)) from exc
    return checkout_charge(checkout)


def _take(request: CheckoutRequest | Rebooking) -> Checkout:
    """Inside the checkout's transaction: what the request names, and its booking."""
    if isinstance(request, Rebooking):
        booking = request.booking
        services = [item.service_id for item in booking.items.all() if item.person == 0]
        staff = _staff(catalogue_get(salon=booking.salon), request.staff_id, services)
        return booking_rebook_with_credit(
            booking=booking, start=request.start, staff=staff, proven=request.proven
        )
    # The catalogue read once, for the request and for the booking.
    catalogue = catalogue_get(salon=request.salon)
    parts, staff, customer = checkout_resolve(request, catalogue=catalogue)
    if not request.by_staff:
        return checkout_hold(
            salon=request.salon,
            parts=parts,
            start=request.start,
            customer=customer,
            staff=staff,
            payment_option=request.payment_option,
            source=request.source,
            notes=request.notes,
            catalogue=catalogue,
            # Her credit is hers to spend once she proved who she is (DESIGN.md): typing
            # her phone or e-mail spends nothing.
            spend_credit=proof_holds(customer=customer, proven=request.proven),
            language=request.customer.language or "",
        )
    handling = request.deposit_handling or DepositHandling.PAYMENT_LINK
    if handling == DepositHandling.PAYMENT_LINK:
        link_channel(customer, request.send_via)  # Invalid on `send_via`: nowhere to send it
    return phone_booking_take(
        salon=request.salon,
        actor=request.actor,
        parts=parts,
        start=request.start,
        customer=customer,
        staff=staff,
        deposit_handling=handling,
        waiver_reason=request.waiver_reason,
        payment_option=request.payment_option,
        notes=request.notes,
        catalogue=catalogue,
    )


def checkout_resolve(
    request: CheckoutRequest, *, catalogue: Catalogue | None = None
) -> tuple[list[VisitPart], StaffMember | None, Customer]:
    """The services (for the client and her guests), staff member and client a request
    names, or Invalid by field (`catalogue`: the salon's, when the caller has read it).

    Staff know whom they book for: the client they name, or the one with the phone or
    e-mail given (created when there is none). Online, the details typed prove nothing:
    the booking is the proven client's, or goes through `customer_for_online_booking`."""
    catalogue = catalogue or catalogue_get(salon=request.salon)
    errors: dict[str, Any] = {}
    own = request.service_ids or ((request.service_id,) if request.service_id is not None else ())
    key = "services" if request.service_ids else "service"
    parts: list[VisitPart] = []
    if not own:
        errors[key] = [_("Choose a service.")]
    elif len(own) > MAX_SERVICES:
        errors[key] = [_("At most %(n)s services a person.") % {"n": MAX_SERVICES}]
    elif (found := _services(catalogue, own)) is None:
        errors[key] = [_("No such service.")]
    else:
        parts += [VisitPart(service) for service in found]
    if len(request.guests) > MAX_GUESTS:
        errors["guests"] = [_("At most %(n)s guests.") % {"n": MAX_GUESTS}]
    else:
        guest_errors: list[dict[str, list[str]]] = []
        for person, guest in enumerate(request.guests, start=1):
            services = (
                _services(catalogue, guest.service_ids)
                if 0 < len(guest.service_ids) <= MAX_SERVICES
                else None
            )
            name = guest.name.strip()
            problems: dict[str, list[str]] = {}
            if not name:
                problems["name"] = [_("Tell us this guest's name.")]
            if services is None:
                problems["services"] = [_("Choose one to %(n)s services.") % {"n": MAX_SERVICES}]
            guest_errors.append(problems)
            if not problems and services is not None:
                parts += [VisitPart(service, person, name[:120]) for service in services]
        if any(guest_errors):
            errors["guests"] = guest_errors
    if errors:
        raise Invalid(errors)
    staff = _staff(catalogue, request.staff_id, [p.service.pk for p in parts if p.person == 0])
    return parts, staff, _customer(request)


# A visit is a few services, for a few people: enough for a wedding party's morning.
MAX_SERVICES = 5
MAX_GUESTS = 5


def _services(catalogue: Catalogue, ids: tuple[int, ...]) -> list[Service] | None:
    services = [catalogue.active_service(pk) for pk in ids]
    return None if any(s is None for s in services) else services  # type: ignore[return-value]


def _staff(
    catalogue: Catalogue, staff_id: int | None, service_ids: list[int]
) -> StaffMember | None:
    """The staff member chosen: he or she does the client's services they offer, and
    must offer at least one."""
    if staff_id is None:
        return None
    for service_id in service_ids:
        if (staff := catalogue.active_staff_for(staff_id, service_id)) is not None:
            return staff
    raise Invalid({"staff": [_("This staff member does not offer the service.")]})


def _customer(request: CheckoutRequest) -> Customer:
    salon, details = request.salon, request.customer
    if request.customer_id is not None:
        customer = (
            Customer.objects.filter(pk=request.customer_id, erased_at__isnull=True).first()
            if request.by_staff
            else None  # online, a client is never named by her id
        )
        if customer is None:
            raise Invalid({"customer": {"id": [_("No such client.")]}})
        return customer
    try:
        if request.by_staff:
            return customer_find_or_create(
                salon=salon,
                name=details.name,
                phone=details.phone,
                email=details.email,
                language=details.language,
                consents=details.consents(),
                consent_channel=ConsentChannel.PHONE,
                consent_source=ConsentSource.PHONE,
                actor=request.actor,
            )
        return customer_for_online_booking(
            salon=salon,
            name=details.name,
            phone=details.phone,
            email=details.email,
            language=details.language,
            consents=details.consents(),
            proven=request.proven,
        )
    except ValidationError as exc:
        raise Invalid({"customer": _fields(exc)}) from exc


def _fields(exc: ValidationError) -> Any:
    if isinstance(exc, Invalid):
        return exc.fields
    return exc.message_dict if hasattr(exc, "error_dict") else exc.messages


def phone_booking_take(
    *,
    salon: Salon,
    actor: Actor,
    parts: Sequence[VisitPart] = (),
    service: Service | None = None,
    start: dt.datetime,
    customer: Customer,
    staff: StaffMember | None,
    deposit_handling: str,
    waiver_reason: str = "",
    payment_option: str = "deposit",
    notes: str = "",
    catalogue: Catalogue | None = None,
) -> Checkout:
    """Inside the caller's transaction: the booking, with its deposit handled as staff
    chose. With a payment link, the slot is held until the link expires; paid at the desk
    or waived, the booking is confirmed at once."""
    parts = parts or visit_parts([service] if service else [])
    if deposit_handling == DepositHandling.PAYMENT_LINK:
        policy, _steps = policy_get(salon=salon)
        checkout = checkout_hold(
            salon=salon,
            parts=parts,
            start=start,
            customer=customer,
            staff=staff,
            payment_option=payment_option,
            source=Source.PHONE,
            notes=notes,
            actor=actor,
            hold_for=dt.timedelta(hours=policy.payment_link_hours),
            catalogue=catalogue,
        )
    else:
        checkout = checkout_at_desk(
            salon=salon,
            parts=parts,
            start=start,
            customer=customer,
            staff=staff,
            actor=actor,
            waived=deposit_handling == DepositHandling.WAIVED,
            reason=waiver_reason,
            payment_option=payment_option,
            notes=notes,
            catalogue=catalogue,
        )
    booking_event(
        checkout.booking,
        "taken_by_phone",
        actor=actor,
        by="staff",
        deposit_handling=deposit_handling,
    )
    return checkout
