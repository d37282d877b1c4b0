"""The client's card at the desk, beside the phone booking: who is on the line, in one
glance. Her visits, no-shows and late cancellations, the credit she can spend, the
salon's notes and her preferences, her requests still open, her last visit.

It reads bookings, credit and requests, each owned by an app above the customers'
(DESIGN.md, "Layout"), hence here, in the app at the top of the domain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Value
from django.utils import timezone

from bookings.models import Booking, Service, StaffMember, Status
from customers.figures import with_figures
from customers.models import Customer
from deposits.selectors import policy_get
from support.models import CustomerRequest, RequestStatus
from tenants.models import Salon

# The open requests the card lists; the rest are one link away (her requests).
CARD_REQUESTS = 5


@dataclass(frozen=True)
class ClientCard:
    customer: Customer
    visits: int
    no_shows: int
    late_cancellations: int
    credit_balance: int  # cents
    last_visit: dt.datetime | None
    open_requests: list[CustomerRequest]  # newest first, at most CARD_REQUESTS
    more_requests: bool  # more open requests than the card lists
    preferences: dict[str, Any] = field(default_factory=dict)  # ids resolved to names


def client_card(*, salon: Salon, pk: int, now: dt.datetime | None = None) -> ClientCard | None:
    """The card of the salon's client `pk` (None for another salon's, a missing or an
    erased one).

    Six queries at most, whatever her history: the client with her figures, her
    bookings' late cancellations and last visit, her open requests, the names of the
    services and staff her preferences name; and the deposit policy's window, from the
    cache (three more when it is cold).

    A late cancellation is one the client made (not the salon) after the free-cancellation
    deadline: the start less the salon's window, or the deadline a moved booking kept."""
    now = now or timezone.now()
    customer = (
        with_figures(Customer.objects.filter(pk=pk, erased_at__isnull=True)).order_by().first()
    )
    if customer is None:
        return None
    policy, _steps = policy_get(salon=salon)
    window = ExpressionWrapper(
        Value(dt.timedelta(hours=policy.cancellation_window_hours)),
        output_field=DurationField(),
    )
    late = Q(status=Status.CANCELLED, cancelled_by_salon=False) & (
        Q(cancelled_at__gt=F("start") - window)
        | Q(cancellation_deadline__isnull=False, cancelled_at__gt=F("cancellation_deadline"))
    )
    history = (
        Booking.objects.filter(customer=customer)
        .order_by()
        .aggregate(
            late=Count("pk", filter=late),
            last=Max(
                "start",
                filter=(Q(status=Status.COMPLETED) | Q(arrived_at__isnull=False))
                & Q(start__lte=now),
            ),
        )
    )
    opened = list(
        CustomerRequest.objects.filter(customer=customer)
        .exclude(status=RequestStatus.RESOLVED)
        .order_by("-opened_at", "-id")[: CARD_REQUESTS + 1]
    )
    return ClientCard(
        customer=customer,
        visits=int(getattr(customer, "visits", 0)),
        no_shows=int(getattr(customer, "no_shows", 0)),
        late_cancellations=int(history["late"] or 0),
        credit_balance=int(getattr(customer, "credit_balance", 0)),
        last_visit=history["last"],
        open_requests=opened[:CARD_REQUESTS],
        more_requests=len(opened) > CARD_REQUESTS,
        preferences=_preferences(customer.preferences or {}),
    )


def _preferences(stored: dict[str, Any]) -> dict[str, Any]:
    """The preferences as the card shows them: services and staff by name (those the
    salon no longer has left out), the rest as stored."""
    shown = dict(stored)
    for key, model in (("services", Service), ("staff", StaffMember)):
        ids = [i for i in stored.get(key, []) if isinstance(i, int)]
        if ids:
            names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
            shown[key] = [names[i] for i in ids if i in names]
    return shown
