import datetime as dt
import enum
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking
from customers.models import Customer
from support.models import CustomerRequest, RequestCategory, RequestChannel, RequestStatus
from tenants.models import Salon

Actor = User | AnonymousUser | None


class Unset(enum.Enum):
    """A field a partial update leaves as it is (None is a value: "no customer")."""

    UNSET = enum.auto()


UNSET = Unset.UNSET

ITEM_FIELDS = ("item_description", "item_location", "item_returned_at")

# How far ahead of the server's clock a return time may be (a desk computer's clock drifts).
_CLOCK_SKEW = dt.timedelta(minutes=5)


def _choice(errors: dict[str, list[str]], name: str, value: str, choices: Any) -> None:
    if value not in choices.values:
        errors[name] = [_("One of: %(values)s.") % {"values": ", ".join(choices.values)}]


def request_check(
    row: CustomerRequest,
    *,
    salon: Salon,
    now: dt.datetime,
    new_customer: bool,
    new_summary: bool = True,
) -> None:
    """The whole row is consistent, or ValidationError keyed by field.

    `new_customer`, `new_summary`: the customer is being linked, the summary written,
    now. A request whose client was erased since (its texts blanked) stays workable.

    Another salon's customer or booking reads as no such one: the message is the one a
    missing id gets, so it tells nothing about the other salon.
    """
    errors: dict[str, list[str]] = {}
    _choice(errors, "channel", row.channel, RequestChannel)
    _choice(errors, "category", row.category, RequestCategory)
    _choice(errors, "status", row.status, RequestStatus)
    if new_summary and not row.summary.strip():
        errors["summary"] = [_("Say what the client asked or reported.")]
    customer: Customer | None = row.customer
    booking: Booking | None = row.booking
    if customer is not None and customer.salon_id != salon.pk:
        errors["customer"] = [_("No such client.")]
    elif customer is not None and new_customer and customer.erased:
        errors["customer"] = [_("This client's data was erased.")]
    if booking is not None and booking.salon_id != salon.pk:
        errors["booking"] = [_("No such booking.")]
    elif booking is not None and customer is not None and booking.customer_id != customer.pk:
        errors["booking"] = [_("This booking is another client's.")]
    if row.category != RequestCategory.LOST_ITEM:
        for name in ITEM_FIELDS:
            if getattr(row, name):
                errors[name] = [_("Only a lost-item request describes an item.")]
    if row.item_returned_at is not None and row.item_returned_at > now + _CLOCK_SKEW:
        errors["item_returned_at"] = [_("This time is in the future.")]
    if errors:
        raise ValidationError(errors)


def _stamp(row: CustomerRequest, *, was: str | None, now: dt.datetime) -> None:
    """First response: the first time the request leaves "open" or gets a resolution.
    Resolved: when it moves to resolved; reopening clears it."""
    if row.first_response_at is None and (
        row.status != RequestStatus.OPEN or row.resolution.strip()
    ):
        row.first_response_at = now
    if row.status == RequestStatus.RESOLVED:
        if was != RequestStatus.RESOLVED or row.resolved_at is None:
            row.resolved_at = now
    else:
        row.resolved_at = None


def _customer_of(booking: Booking | None, salon: Salon) -> Customer | None:
    """A request about a booking is the booking client's, unless they were erased."""
    if booking is None or booking.salon_id != salon.pk or booking.customer.erased:
        return None
    return booking.customer


def request_open(
    *,
    salon: Salon,
    channel: str,
    category: str,
    summary: str,
    customer: Customer | None = None,
    booking: Booking | None = None,
    status: str = RequestStatus.OPEN,
    resolution: str = "",
    item_description: str = "",
    item_location: str = "",
    item_returned_at: dt.datetime | None = None,
    actor: Actor = None,
) -> CustomerRequest:
    """Log a request. Raises ValidationError (by field) on bad input.

    A request answered on the spot may be logged resolved at once: it is then answered
    and resolved when opened.
    """
    row = request_prepare(
        salon=salon,
        channel=channel,
        category=category,
        summary=summary,
        customer=customer,
        booking=booking,
        status=status,
        resolution=resolution,
        item_description=item_description,
        item_location=item_location,
        item_returned_at=item_returned_at,
        actor=actor,
    )
    with transaction.atomic(durable=True):
        row.save()
    return row


def request_prepare(
    *,
    salon: Salon,
    channel: str,
    category: str,
    summary: str,
    customer: Customer | None = None,
    booking: Booking | None = None,
    status: str = RequestStatus.OPEN,
    resolution: str = "",
    item_description: str = "",
    item_location: str = "",
    item_returned_at: dt.datetime | None = None,
    actor: Actor = None,
) -> CustomerRequest:
    """The request `request_open` logs, checked and timed but not saved yet: for a caller
    that saves it in its own transaction, with what called for it."""
    now = timezone.now()
    row = CustomerRequest(
        salon=salon,
        customer=customer if customer is not None else _customer_of(booking, salon),
        booking=booking,
        channel=channel,
        category=category,
        summary=summary.strip(),
        status=status,
        resolution=resolution.strip(),
        item_description=item_description.strip(),
        item_location=item_location.strip(),
        item_returned_at=item_returned_at,
        opened_by=actor if isinstance(actor, User) else None,
        opened_at=now,
    )
    request_check(row, salon=salon, now=now, new_customer=customer is not None)
    _stamp(row, was=None, now=now)
    return row


def request_update(
    *,
    customer_request: CustomerRequest,
    customer: Customer | Unset | None = UNSET,
    booking: Booking | Unset | None = UNSET,
    channel: str | Unset = UNSET,
    category: str | Unset = UNSET,
    summary: str | Unset = UNSET,
    status: str | Unset = UNSET,
    resolution: str | Unset = UNSET,
    item_description: str | Unset = UNSET,
    item_location: str | Unset = UNSET,
    item_returned_at: dt.datetime | Unset | None = UNSET,
) -> CustomerRequest:
    """Change what is given, and time the staff's response and the resolution.

    The row is locked while it changes, so two people acting at once stamp the first
    response once.
    """
    with transaction.atomic(durable=True):
        row = (
            CustomerRequest.objects.select_for_update(of=("self",))
            .select_related("salon", "customer", "booking")
            .get(pk=customer_request.pk)
        )
        was = row.status
        new_customer = not isinstance(customer, Unset) and customer != row.customer
        if not isinstance(customer, Unset):
            row.customer = customer
        if not isinstance(booking, Unset):
            row.booking = booking
            if row.customer is None and isinstance(customer, Unset):
                row.customer = _customer_of(booking, row.salon)
        for name, value in (("channel", channel), ("category", category), ("status", status)):
            if not isinstance(value, Unset):
                setattr(row, name, value)
        for name, text in (
            ("summary", summary),
            ("resolution", resolution),
            ("item_description", item_description),
            ("item_location", item_location),
        ):
            if not isinstance(text, Unset):
                setattr(row, name, text.strip())
        if not isinstance(item_returned_at, Unset):
            row.item_returned_at = item_returned_at
        now = timezone.now()
        request_check(
            row,
            salon=row.salon,
            now=now,
            new_customer=new_customer,
            new_summary=not isinstance(summary, Unset),
        )
        _stamp(row, was=was, now=now)
        row.save()
    return row
