"""What a deposit policy would have done with the salon's own recent history: the deposits
it would have asked, and what the salon would have kept from the no-shows and late
cancellations (or turned into credit), had it been in force.

Each past appointment is quoted as the calculator quotes a booking (deposits/rules.py):
its services at the prices booked, on the day it was booked, for the client as the
policy would have seen her then (visits and no-shows before it, trusted or not). Read in
a fixed number of queries, however long the history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from bookings.models import Booking, BookingItem, Status
from tenants.models import Salon

from .models import DepositPolicy, LateCancellation, policy_values
from .payments import cancellation_deadline
from .rules import Client, Rule, quote_visit

DAYS = 90


@dataclass(frozen=True)
class Simulation:
    days: int
    appointments: int  # honoured, missed or cancelled by the client, in the period
    asked: int  # deposits the policy would have asked for them (cents)
    kept: int  # kept by the salon: no-shows, late cancellations forfeited
    credited: int  # late cancellations turned into credit
    no_shows: int
    late_cancellations: int


def policy_simulate(
    *,
    salon: Salon,
    policy: DepositPolicy,
    ramp: list[tuple[dt.date, Rule]],
    days: int = DAYS,
    now: dt.datetime | None = None,
) -> Simulation:
    """`policy` (saved or as typed) with `ramp`, over the appointments of the last `days`
    days: those honoured, missed, or cancelled by the client (a salon's cancellation
    refunds everything; lapsed holds were never booked)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    items = BookingItem.objects.select_related("service").order_by("position")
    rows = list(
        Booking.objects.filter(
            salon=salon,
            start__gte=since,
            start__lt=now,
            status__in=[Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED],
            cancelled_by_salon=False,
        )
        .select_related("customer")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("start", "pk")
    )
    # What each client's record said when the period began; then kept up as it goes.
    history: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    earlier = (
        Booking.objects.filter(
            salon=salon, customer_id__in={b.customer_id for b in rows}, start__lt=since
        )
        .values("customer_id")
        .annotate(
            visits=Count("pk", filter=Q(status=Status.COMPLETED)),
            no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
        )
    )
    for row in earlier:
        history[row["customer_id"]] = [row["visits"], row["no_shows"]]

    values = replace(policy_values(policy, []), ramp=tuple(ramp))
    asked = kept = credited = no_shows = late = 0
    for booking in rows:
        visits, missed = history[booking.customer_id]
        customer = booking.customer
        client = Client(
            visits=visits, no_shows=missed, trusted=customer.trusted and not customer.unproven
        )
        quote = quote_visit(
            values,
            items=[
                (item.price, Rule.parse_or_none(item.service.deposit_override))
                for item in booking.items.all()
            ],
            day=timezone.localtime(booking.created_at, salon.tz).date(),
            client=client,
            currency=salon.currency,
        )
        asked += quote.amount
        if booking.status == Status.NO_SHOW:
            no_shows += 1
            kept += quote.amount
            history[booking.customer_id][1] += 1
        elif booking.status == Status.COMPLETED:
            history[booking.customer_id][0] += 1
        elif booking.cancelled_at is not None and booking.cancelled_at > cancellation_deadline(
            booking, policy.cancellation_window_hours
        ):
            late += 1
            if policy.late_cancellation == LateCancellation.FORFEIT:
                kept += quote.amount
            else:
                credited += quote.amount
    return Simulation(
        days=days,
        appointments=len(rows),
        asked=asked,
        kept=kept,
        credited=credited,
        no_shows=no_shows,
        late_cancellations=late,
    )
