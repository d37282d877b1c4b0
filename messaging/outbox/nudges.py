"""The invitation to come back: a service's rebooking interval ("six weeks after a cut")
has run since a client's visit, and she has not booked since.

Once a day in the salon's time zone is enough (the interval counts days), but the sweep
runs every hour so that each salon's new day is seen soon after it begins; quiet hours
hold the message back like any that can wait. Each visit gets one message at most, under
the key `nudge:<visit id>`: sent, or written as skipped with the reason (no consent to
offers, a blocked client, the service no longer offered), so that it is never looked at
again. It is sent:

- for a completed visit one of whose services has an interval (a visit of several
  services is due from the shortest of their intervals), from the day that interval has
  run (salon-local days) to `NUDGE_LATE_DAYS` days after: a message a season late is
  spam, and the client who did not come back by then has gone elsewhere;
- to a client with no active or completed booking, of any service, made or starting
  since that visit: her own, or one booked online with her details (a record of its
  own, `duplicate_of` her, until staff merge it), whichever record the visit is on;
- by her channel, with her consent to offers (the `marketing` purpose, read again at
  sending, and a one-click way out in the message), never to a blocked client;
- with a link to the salon's booking steps, the visit's service and staff member chosen
  (the staff member left out when he or she no longer offers it), marked with the visit
  (`?n=`, bookings/tokens.py) so that the booking it brings records where it came from.

The selection is one query per salon, however many clients and visits it looks at (the
catalogue, which says which services have an interval, is cached); each message written
then costs its own few.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import (
    BooleanField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse

from bookings.models import ACTIVE_STATUSES, Booking, BookingItem, Status
from bookings.selectors import Catalogue, catalogue_get
from bookings.tokens import comeback_token
from core.dates import today_in
from customers.consent import withdraw_url
from customers.models import ConsentEvent, Purpose
from messaging.models import Message, MessageKind
from messaging.outbox.queue import message_queue
from messaging.outbox.rules import NUDGE_LATE_DAYS
from tenants.models import Salon

# A booking that shows the client came back: it holds a time, or it took place.
CAME_BACK = (*ACTIVE_STATUSES, Status.COMPLETED)


def nudge_key(visit_id: int) -> str:
    return f"nudge:{visit_id}"


def _midnight(day: dt.date, salon: Salon) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=salon.tz)


def _booked_since(person: str, start: str, exclude: str) -> tuple[Exists, Exists]:
    """Whether the client (the record `person` names, and those booked online with her
    details) has a booking that shows she came back, made or starting after `start`.
    Two tests, each excluded on its own, so that PostgreSQL turns each into an anti-join
    on an index of its own (the two joined by OR would be probed once per visit)."""
    later = (
        Booking.objects.filter(status__in=CAME_BACK)
        .filter(Q(created_at__gt=OuterRef(start)) | Q(start__gt=OuterRef(start)))
        .exclude(pk=OuterRef(exclude))
    )
    own = later.filter(customer_id=OuterRef(person))
    theirs = later.filter(customer__duplicate_of_id=OuterRef(person))
    return Exists(own), Exists(theirs)


def nudges_due(
    *, salon: Salon, now: dt.datetime, catalogue: Catalogue | None = None
) -> QuerySet[Booking]:
    """The salon's completed visits whose invitation is due today and was never written,
    of clients who have not booked since, with what decides whether it may go out
    (`marketing`, `blocked`). One query, whatever their number."""
    catalogue = catalogue or catalogue_get(salon=salon)
    by_interval: dict[int, list[int]] = {}
    for service in catalogue.services.values():
        if service.rebook_after_days:
            by_interval.setdefault(service.rebook_after_days, []).append(service.pk)
    if not by_interval:
        return Booking.objects.none()
    today = today_in(salon.tz, now)
    due = Q()
    for days, service_ids in sorted(by_interval.items()):
        # Visits of the days whose interval has run, but not for longer than the grace.
        first = today - dt.timedelta(days=days + NUDGE_LATE_DAYS - 1)
        last = today - dt.timedelta(days=days)
        items = BookingItem.objects.filter(booking=OuterRef("pk"), service_id__in=service_ids)
        due |= Q(
            Exists(items),
            start__gte=_midnight(first, salon),
            start__lt=_midnight(last + dt.timedelta(days=1), salon),
        )
    consent = (
        ConsentEvent.objects.filter(customer=OuterRef("customer_id"), purpose=Purpose.MARKETING)
        .order_by("-recorded_at", "-id")
        .values("granted")[:1]
    )
    written = Message.objects.filter(booking=OuterRef("pk"), kind=MessageKind.REBOOK_NUDGE)
    hers, on_her_details = _booked_since("person", "start", exclude="pk")
    return (
        Booking.objects.filter(due, salon=salon, status=Status.COMPLETED)
        .filter(customer__erased_at__isnull=True)
        .annotate(person=Coalesce(F("customer__duplicate_of_id"), F("customer_id")))
        .exclude(Exists(written))
        .exclude(hers)
        .exclude(on_her_details)
        .annotate(
            marketing=Coalesce(Subquery(consent), Value(False), output_field=BooleanField()),
            # The client whose details an online booking used, when the visit is on such
            # a record: her being blocked blocks it too.
            main_blocked=F("customer__duplicate_of__blocked"),
        )
        .select_related("customer")
        .order_by("start", "pk")
    )


def nudge_link(*, salon: Salon, visit: Booking, staff_id: int | None) -> str:
    """The salon's booking steps with the visit's service (and staff member) chosen."""
    params: dict[str, Any] = {"service": visit.service_id}
    if staff_id is not None:
        params["staff"] = staff_id
    params["step"] = "time" if staff_id is not None else "staff"
    params["n"] = comeback_token(salon_id=salon.pk, visit_id=visit.pk)
    path = reverse("book", kwargs={"salon": salon.slug})
    return f"{settings.SITE_URL}{path}?{urlencode(params)}"


def nudges_plan(*, salon: Salon, now: dt.datetime) -> int:
    """Write the invitations due today (module docstring). Returns how many were written,
    sent or skipped."""
    catalogue = catalogue_get(salon=salon)
    visits = list(nudges_due(salon=salon, now=now, catalogue=catalogue))
    for visit in visits:
        with transaction.atomic():
            _nudge(salon, catalogue, visit, now)
    return len(visits)


def _nudge(salon: Salon, catalogue: Catalogue, visit: Booking, now: dt.datetime) -> Message:
    customer = visit.customer
    customer.salon = salon
    service = catalogue.active_service(visit.service_id)
    staff = catalogue.active_staff_for(visit.staff_id, visit.service_id) if service else None
    skip = ""
    if customer.blocked or getattr(visit, "main_blocked", None):
        skip = "The client is blocked."
    elif not getattr(visit, "marketing", False):
        skip = "The client has not agreed to receive offers."
    elif service is None:
        skip = "The service is no longer offered."
    data: dict[str, Any] = {
        "visit": visit.pk,
        "service": visit.service_id,
        "staff": staff.pk if staff else None,
        "visit_start": visit.start.isoformat(),
    }
    context: dict[str, Any] = {}
    if not skip and service is not None:
        link = nudge_link(salon=salon, visit=visit, staff_id=staff.pk if staff else None)
        data["url"] = link
        context = {
            "service": service.name,
            "staff": staff.name if staff else "",
            "visit_start": visit.start,
            "book_url": link,
            "withdraw_url": withdraw_url(customer=customer),
        }
    return message_queue(
        salon=salon,
        customer=customer,
        kind=MessageKind.REBOOK_NUDGE,
        key=nudge_key(visit.pk),
        now=now,
        booking=visit,
        skip=skip,
        context=context,
        data=data,
    )


def nudge_no_longer_due(message: Message) -> str:
    """Why a planned invitation should not go out any more (at sending), or ''."""
    customer = message.customer
    main = customer.duplicate_of if customer.duplicate_of_id else None
    if customer.blocked or (main is not None and main.blocked):
        return "The client was blocked meanwhile."
    visit = message.booking
    if visit is None:
        return "The visit is gone."
    person = main.pk if main is not None else customer.pk
    later = Booking.objects.filter(status__in=CAME_BACK).filter(
        Q(created_at__gt=visit.start) | Q(start__gt=visit.start)
    )
    came_back = later.exclude(pk=visit.pk).filter(
        Q(customer_id=person) | Q(customer__duplicate_of_id=person)
    )
    if came_back.exists():
        return "The client booked meanwhile."
    return ""
