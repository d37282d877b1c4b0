"""The owner's figures (deposits/figures.py) with the requests answered and how fast: by
month (when the request was opened, salon-local) and by the staff member who logged it;
and the invitations to come back sent, and those the client answered by booking: by
month (when it was sent) and by the staff member of the visit it was about.

A request is answered once staff first acted on it (`first_response_at`, stamped by the
services); its first-response time runs from `opened_at`. An invitation brought the client
back when a booking of hers (any door, any service, not a hold that lapsed unpaid) was
made within `NUDGE_REBOOKED_DAYS` days after it was sent: one made through its link (which
the booking records), or one of her own, or made online with her details. One more query
for each, whatever the number of requests or invitations."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from django.db.models import (
    BooleanField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings.models import Booking, Status
from deposits.figures import OwnerFigures, Row, owner_figures
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox.rules import NUDGE_REBOOKED_DAYS
from tenants.models import Salon

from .models import CustomerRequest

OTHERS = "others"  # requests logged by someone who is not on the staff list, or by no one


def salon_figures(
    *, salon: Salon, months: int = 12, now: dt.datetime | None = None
) -> OwnerFigures:
    now = now or timezone.now()
    figures = owner_figures(salon=salon, months=months, now=now)
    tz = salon.tz
    since = dt.datetime.combine(figures.since, dt.time(), tzinfo=tz)
    by_month = {row.key: row for row in figures.months}
    by_staff = {row.key: row for row in figures.staff}
    waits: defaultdict[object, list[dt.timedelta]] = defaultdict(list)
    rows = CustomerRequest.objects.filter(
        salon=salon, opened_at__gte=since, opened_at__lt=now
    ).values_list("opened_at", "first_response_at", "opened_by_id")
    for opened_at, answered_at, user_id in rows:
        month = by_month.get(opened_at.astimezone(tz).date().replace(day=1))
        staff_id = figures.staff_users.get(user_id) if user_id is not None else None
        staff = by_staff.get(staff_id) if staff_id is not None else None
        if staff is None:
            staff = by_staff.setdefault(OTHERS, Row(OTHERS, ""))
        for row in (month, staff):
            if row is None:
                continue
            row.requests += 1
            if answered_at is not None:
                row.answered += 1
                waits[id(row)].append(max(answered_at - opened_at, dt.timedelta()))
    for row in [*figures.months, *by_staff.values()]:
        if waits[id(row)]:
            seconds = statistics.median(w.total_seconds() for w in waits[id(row)])
            row.response_median = dt.timedelta(seconds=seconds)
    for sent_at, staff_id, rebooked in nudges_sent(salon=salon, since=since, until=now):
        month = by_month.get(sent_at.astimezone(tz).date().replace(day=1))
        staff = by_staff.get(staff_id) if staff_id is not None else None
        if staff is None:
            staff = by_staff.setdefault(OTHERS, Row(OTHERS, ""))
        for row in (month, staff):
            if row is not None:
                row.nudges += 1
                row.nudges_rebooked += int(rebooked)
    if OTHERS in by_staff and by_staff[OTHERS] not in figures.staff:
        figures.staff.append(by_staff[OTHERS])
    return figures


def nudges_sent(
    *, salon: Salon, since: dt.datetime, until: dt.datetime
) -> QuerySet[Message, tuple[dt.datetime, int | None, bool]]:
    """The invitations to come back sent from `since` to `until`: when, the staff member of the
    visit, and whether the client booked within the window after it (module docstring).
    One query."""
    window = dt.timedelta(days=NUDGE_REBOOKED_DAYS)
    after = Booking.objects.filter(
        created_at__gt=OuterRef("sent_at"),
        created_at__lte=ExpressionWrapper(
            OuterRef("sent_at") + window, output_field=DateTimeField()
        ),
    ).exclude(status=Status.EXPIRED)
    rebooked = (
        Q(Exists(after.filter(comeback_of_id=OuterRef("booking_id"))))
        | Q(Exists(after.filter(customer_id=OuterRef("person"))))
        | Q(Exists(after.filter(customer__duplicate_of_id=OuterRef("person"))))
    )
    return (
        Message.objects.filter(
            salon=salon,
            kind=MessageKind.REBOOK_NUDGE,
            status=MessageStatus.SENT,
            sent_at__gte=since,
            sent_at__lte=until,
        )
        .annotate(person=Coalesce(F("customer__duplicate_of_id"), F("customer_id")))
        .annotate(rebooked=ExpressionWrapper(rebooked, output_field=BooleanField()))
        .values_list("sent_at", "booking__staff_id", "rebooked")
    )
