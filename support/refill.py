"""Refilling freed times: a time that frees (a cancellation, a lapsed hold, a move, an early
no-show, time off removed) is recorded as a `FreedTime` and offered to the clients waiting
for it (API.md, "Waitlist").

What a freed time can hold is the availability engine's answer for each waiting visit on
that staff member's day (one query for every visit, the engine once per distinct visit),
kept to the starts whose items lie within the freed time and that suit the entry's dates
and parts of the day (`refill_choose`, pure). The salon chooses how it is offered:
`first_in_line` (one client at a time, in the order they joined, each with `offer_minutes`
to accept) or `broadcast` (every client it suits; the first to accept has it). An offer
goes by the client's channel through the outbox, after quiet hours, and its clock starts
when it is sent. A client who already has a booking for the same services later that day
or week is offered to move it there instead (what she paid moves with her).

Every step is safe to run twice: a freed time is recorded once per booking event and staff
member, offered once per entry, and its refill runs with the freed time's row locked.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from bookings.models import ACTIVE_STATUSES, Booking, BookingEvent, StaffMember
from bookings.selectors import Catalogue, catalogue_get, visit_starts_with_staff
from bookings.visits import VisitSlot
from customers.models import Customer
from messaging.models import MessageKind
from messaging.outbox import language_for, message_queue, message_withdraw, money_text
from messaging.outbox.queue import messages_queue_many
from messaging.outbox.rules import quiet_until
from support.models import (
    FreedTime,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from support.waitlist import entry_suits
from tenants.models import Salon

# The booking events that free a time, and how far back they are read.
FREEING_EVENTS = ("cancelled", "expired", "released", "rescheduled", "no_show")
EVENT_WINDOW = dt.timedelta(days=1)

FIRST_IN_LINE = "first_in_line"
BROADCAST = "broadcast"


# Recording freed times --------------------------------------------------------------


def _freed_by_event(event: BookingEvent) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """(staff id, start, end) of the time the event freed, by staff member."""
    booking = event.booking
    if event.kind == "rescheduled":
        old = event.data.get("old") or {}
        try:
            start = dt.datetime.fromisoformat(old["start"])
            staff_id = int(old["staff"])
        except (KeyError, TypeError, ValueError):
            return []
        return [(staff_id, start, start + (booking.end - booking.start))]
    spans: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for item in booking.items.all():
        a, b = spans.get(item.staff_id, (item.start, item.end))
        spans[item.staff_id] = (min(a, item.start), max(b, item.end))
    if not spans:
        spans[booking.staff_id] = (booking.start, booking.end)
    found = []
    for staff_id, (start, end) in spans.items():
        if event.kind == "no_show":
            # Marked before the end: what is left of the appointment is free.
            start = max(start, event.at)
        if start < end:
            found.append((staff_id, start, end))
    return found


def freed_times_record(*, salon: Salon, now: dt.datetime | None = None) -> list[int]:
    """A `FreedTime` for each recent booking event that freed a time still to come (once
    per event and staff member, however often the events are read). Returns their ids."""
    now = now or timezone.now()
    recorded = FreedTime.objects.filter(event=OuterRef("pk"))
    events = list(
        BookingEvent.objects.filter(
            kind__in=FREEING_EVENTS, at__gte=now - EVENT_WINDOW, booking__end__gt=now
        )
        .filter(~Exists(recorded))
        .select_related("booking")
        .prefetch_related("booking__items")
        .order_by("id")[:500]
    )
    made: list[int] = []
    for event in events:
        for staff_id, start, end in _freed_by_event(event):
            if end <= now:
                continue
            freed, created = FreedTime.objects.get_or_create(
                event=event,
                staff_id=staff_id,
                defaults={
                    "salon": salon,
                    "start": start,
                    "end": end,
                    "cause": event.kind,
                    "booking": event.booking,
                    "freed_at": event.at,
                },
            )
            if created:
                made.append(freed.pk)
    return made


def freed_time_off_record(
    salon_id: int, staff_ids: list[int], start: dt.datetime, end: dt.datetime, cause: str
) -> None:
    """Time off removed (bookings.events.time_freed), in its transaction: a freed time
    for the staff member, or for each bookable one when the whole salon was closed; the
    refill runs once it commits."""
    if end <= timezone.now():
        return
    if not staff_ids:
        staff_ids = list(StaffMember.objects.filter(active=True).values_list("pk", flat=True))
    FreedTime.objects.bulk_create(
        FreedTime(salon_id=salon_id, staff_id=s, start=start, end=end, cause=cause)
        for s in staff_ids
    )
    from support.tasks import waitlist_apply

    transaction.on_commit(
        lambda: waitlist_apply.apply_async(kwargs={"salon_id": salon_id}), robust=True
    )


# Choosing (pure) --------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """An entry and the visit start offered to it."""

    entry: WaitlistEntry
    slot: VisitSlot


def _fits(slot: VisitSlot, start: dt.datetime, end: dt.datetime, staff_id: int) -> bool:
    return (
        start <= slot.start
        and slot.end <= end
        and all(staff_id in item.staff_ids for item in slot.items)
    )


def refill_choose(
    *,
    entries: Iterable[WaitlistEntry],
    starts: Mapping[tuple[int, ...], Sequence[VisitSlot]],
    staff_id: int,
    start: dt.datetime,
    end: dt.datetime,
    earliest: dt.datetime,
    tz: dt.tzinfo,
    limit: int | None = None,
) -> list[Choice]:
    """The entries (in the order given: the order they joined) that the freed time
    [start, end) of `staff_id` suits, each with its earliest fitting visit start: one
    the engine found for the entry's services (`starts`, by services), within the freed
    time, not before `earliest`, with that staff member (the entry's own, or anyone),
    on the entry's dates and in its parts of the day. At most `limit` of them."""
    chosen: list[Choice] = []
    fitting: dict[tuple[int, ...], list[VisitSlot]] = {}
    for entry in entries:
        if entry.staff_id is not None and entry.staff_id != staff_id:
            continue
        services = tuple(entry.service_ids)
        slots = fitting.get(services)
        if slots is None:
            slots = fitting[services] = [
                s
                for s in starts.get(services, ())
                if s.start >= earliest and _fits(s, start, end, staff_id)
            ]
        slot = next((s for s in slots if entry_suits(entry, s.start, tz)), None)
        if slot is None:
            continue
        chosen.append(Choice(entry, slot))
        if limit is not None and len(chosen) >= limit:
            break
    return chosen


# Refilling ------------------------------------------------------------------------


def _candidates(freed: FreedTime, day: dt.date, offered: set[int]) -> list[WaitlistEntry]:
    """Waiting entries the freed time may suit, by the index: its salon's, for a service
    its staff member offers, with dates covering its day, for that staff member or anyone;
    in the order they joined. One query."""
    catalogue = catalogue_get(salon=freed.salon)
    services = [pk for pk, staff in catalogue.offers.items() if freed.staff_id in staff]
    return [
        entry
        for entry in WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING,
            service_id__in=services,
            first_date__lte=day,
            last_date__gte=day,
            customer__blocked=False,
            customer__erased_at__isnull=True,
        )
        .filter(Q(staff__isnull=True) | Q(staff_id=freed.staff_id))
        .only(
            "pk",
            "salon_id",
            "customer_id",
            "service_ids",
            "staff_id",
            "first_date",
            "last_date",
            "parts_of_day",
            "joined_at",
        )
        .order_by("joined_at", "id")
        if entry.pk not in offered
    ]


def _starts_by_services(
    salon: Salon, freed: FreedTime, entries: Sequence[WaitlistEntry], day: dt.date, now: dt.datetime
) -> dict[tuple[int, ...], list[VisitSlot]]:
    """The engine's starts on the day, once per distinct visit the entries wait for."""
    catalogue = catalogue_get(salon=salon)
    visits = sorted({tuple(e.service_ids) for e in entries})
    known = [v for v in visits if all(pk in catalogue.services for pk in v)]
    found = visit_starts_with_staff(
        salon=salon,
        visits=[[catalogue.services[pk] for pk in v] for v in known],
        staff_id=freed.staff_id,
        day=day,
        now=now,
        catalogue=catalogue,
    )
    return dict(zip(known, found, strict=True))


def _moves(choices: Sequence[Choice], tz: dt.tzinfo) -> dict[int, Booking]:
    """For each chosen entry whose client has an active booking for the same services
    later the same week (Monday to Sunday in the salon's calendar), that booking: the
    offer moves it rather than books anew. Two queries."""
    if not choices:
        return {}
    first = min(c.slot.start for c in choices)
    last_day = max(c.slot.start.astimezone(tz).date() for c in choices)
    week_end = dt.datetime.combine(
        last_day + dt.timedelta(days=7 - last_day.weekday()), dt.time(), tzinfo=tz
    )
    bookings = (
        Booking.objects.filter(
            customer_id__in={c.entry.customer_id for c in choices},
            status__in=ACTIVE_STATUSES,
            start__gt=first,
            start__lt=week_end,
        )
        .prefetch_related("items")
        .order_by("start", "id")
    )
    by_customer: defaultdict[int, list[Booking]] = defaultdict(list)
    for booking in bookings:
        by_customer[booking.customer_id].append(booking)
    moves: dict[int, Booking] = {}
    for choice in choices:
        start = choice.slot.start
        week = start.astimezone(tz).isocalendar()[:2]
        for booking in by_customer.get(choice.entry.customer_id, []):
            services = [i.service_id for i in booking.items.all() if i.person == 0]
            same_week = booking.start.astimezone(tz).isocalendar()[:2] == week
            guests = any(i.person for i in booking.items.all())
            same_services = services == list(choice.entry.service_ids)
            if booking.start > start and same_week and not guests and same_services:
                moves[choice.entry.pk] = booking
                break
    return moves


def offer_url(offer: WaitlistOffer) -> str:
    """The client's page for the offer: the time, what it costs, and the button."""
    return f"{settings.SITE_URL}/{offer.salon.slug}/waitlist/offers/{offer.token}/"


def _offer_message(
    offer: WaitlistOffer, customer: Customer, catalogue: Catalogue
) -> tuple[Customer, str, dict[str, Any], dict[str, Any]]:
    """The offer's message, as the outbox writes it: (customer, key, context, data)."""
    salon = offer.salon
    language = language_for(customer, salon)
    names = [catalogue.services[i["service"]].name for i in offer.items]
    staff = catalogue.staff.get(offer.staff_id)
    price = sum(catalogue.services[i["service"]].price for i in offer.items)
    context = {
        "service": " + ".join(names),
        "staff": staff.name if staff else "",
        "start": offer.start,
        "expires": offer.expires_at,
        "url": offer_url(offer),
        "price": money_text(price, salon.currency, language),
        "move_start": offer.move.start if offer.move else None,
    }
    data = {
        "offer": offer.pk,
        "start": offer.start.isoformat(),
        "expires_at": offer.expires_at.isoformat(),
    }
    return customer, f"waitlist_offer:{offer.pk}", context, data


def _sent_at(salon: Salon, now: dt.datetime) -> dt.datetime:
    """When an offer made now goes out: now, or when the salon's quiet hours end."""
    return quiet_until(salon, now) or now


def freed_time_refill(*, freed_id: int, now: dt.datetime | None = None) -> list[WaitlistOffer]:
    """Offer the freed time to the clients it suits, as the salon chose; nothing when it
    was taken, has begun, or an offer of it is open in `first_in_line`. A fixed number of
    queries whatever the number of entries waiting, plus those of each offer made.
    Returns the offers made."""
    now = now or timezone.now()
    with transaction.atomic():
        freed = (
            FreedTime.objects.select_for_update(of=("self",))
            .select_related("salon")
            .filter(pk=freed_id, done_at__isnull=True)
            .first()
        )
        if freed is None:
            return []
        salon = freed.salon
        tz = salon.tz
        sent_at = _sent_at(salon, now)
        earliest = sent_at + dt.timedelta(minutes=salon.min_notice_minutes)
        if freed.end <= earliest or freed.refilled_by_id is not None:
            freed.done_at = now
            freed.save(update_fields=["done_at"])
            return []
        offers = list(WaitlistOffer.objects.filter(freed=freed).values_list("entry_id", "status"))
        open_now = any(status == OfferStatus.OPEN for _e, status in offers)
        line = salon.waitlist_mode != BROADCAST
        if line and open_now:
            return []
        day = max(freed.start, earliest).astimezone(tz).date()
        entries = _candidates(freed, day, {entry for entry, _s in offers})
        starts = _starts_by_services(salon, freed, entries, day, now) if entries else {}
        choices = refill_choose(
            entries=entries,
            starts=starts,
            staff_id=freed.staff_id,
            start=freed.start,
            end=freed.end,
            earliest=earliest,
            tz=tz,
            limit=1 if line else None,
        )
        if not choices:
            if not open_now:
                freed.done_at = now
                freed.save(update_fields=["done_at"])
            return []
        return _offers_make(freed, choices, now=now, sent_at=sent_at)


def _offers_make(
    freed: FreedTime, choices: Sequence[Choice], *, now: dt.datetime, sent_at: dt.datetime
) -> list[WaitlistOffer]:
    salon = freed.salon
    moves = _moves(choices, salon.tz)
    clock = dt.timedelta(minutes=salon.offer_minutes)
    offers = WaitlistOffer.objects.bulk_create(
        WaitlistOffer(
            salon=salon,
            entry=c.entry,
            freed=freed,
            start=c.slot.start,
            end=c.slot.end,
            staff_id=freed.staff_id,
            items=[
                {
                    "service": item.service_id,
                    "staff": freed.staff_id,
                    "start": item.start.isoformat(),
                    "end": item.end.isoformat(),
                }
                for item in c.slot.items
            ],
            offered_at=sent_at,
            # The clock starts when the offer is sent; it never runs past the start.
            expires_at=min(sent_at + clock, c.slot.start),
            move=moves.get(c.entry.pk),
        )
        for c in choices
    )
    WaitlistEntry.objects.filter(
        pk__in=[c.entry.pk for c in choices], status=WaitlistStatus.WAITING
    ).update(status=WaitlistStatus.OFFERED)
    customers = Customer.objects.in_bulk({c.entry.customer_id for c in choices})
    catalogue = catalogue_get(salon=salon)
    for offer in offers:
        offer.salon = salon
    messages_queue_many(
        salon=salon,
        kind=MessageKind.WAITLIST_OFFER,
        now=now,
        messages=[
            _offer_message(offer, customers[choice.entry.customer_id], catalogue)
            for offer, choice in zip(offers, choices, strict=True)
        ],
    )
    return offers


def offers_lapse(*, salon: Salon, now: dt.datetime | None = None) -> list[int]:
    """Open offers past their time lapse: their clients keep waiting, and the freed
    times they were for are offered again (to the next client in line). Returns the
    ids of those freed times."""
    now = now or timezone.now()
    with transaction.atomic():
        lapsed = list(
            WaitlistOffer.objects.select_for_update(skip_locked=True)
            .filter(status=OfferStatus.OPEN, expires_at__lte=now)
            .values_list("pk", "entry_id", "freed_id")
        )
        if not lapsed:
            return []
        WaitlistOffer.objects.filter(
            pk__in=[pk for pk, _e, _f in lapsed], status=OfferStatus.OPEN
        ).update(status=OfferStatus.LAPSED, answered_at=now)
        _entries_wait_again([entry for _pk, entry, _f in lapsed])
        for pk, _entry, _freed in lapsed:
            message_withdraw(key=f"waitlist_offer:{pk}", why="The offer lapsed.")
        freed = sorted({f for _pk, _e, f in lapsed if f is not None})
        FreedTime.objects.filter(pk__in=freed, refilled_by__isnull=True).update(done_at=None)
    return freed


def _entries_wait_again(entry_ids: Sequence[int]) -> None:
    """Entries whose offer closed without a booking wait again (unless another of their
    offers is still open)."""
    still_open = WaitlistOffer.objects.filter(entry=OuterRef("pk"), status=OfferStatus.OPEN)
    WaitlistEntry.objects.filter(pk__in=entry_ids, status=WaitlistStatus.OFFERED).filter(
        ~Exists(still_open)
    ).update(status=WaitlistStatus.WAITING)


def offers_taken(*, offers: Sequence[WaitlistOffer], now: dt.datetime, tell: bool = True) -> None:
    """These open offers can no longer be had (someone accepted the time): `taken`, their
    clients keep their place and, when `tell`, are told kindly by their channel."""
    ids = [o.pk for o in offers]
    closed = list(
        WaitlistOffer.objects.filter(pk__in=ids, status=OfferStatus.OPEN).select_related(
            "salon", "entry__customer"
        )
    )
    WaitlistOffer.objects.filter(pk__in=[o.pk for o in closed]).update(
        status=OfferStatus.TAKEN, answered_at=now
    )
    _entries_wait_again([o.entry_id for o in closed])
    for offer in closed:
        withdrawn = message_withdraw(
            key=f"waitlist_offer:{offer.pk}", why="The time was taken before it was sent."
        )
        if tell and not withdrawn:
            message_queue(
                salon=offer.salon,
                customer=offer.entry.customer,
                kind=MessageKind.WAITLIST_TAKEN,
                key=f"waitlist_taken:{offer.pk}",
                now=now,
                context={"start": offer.start},
                data={"offer": offer.pk},
            )


def waitlist_run(*, salon: Salon, now: dt.datetime | None = None) -> dict[str, int]:
    """The work of each sweep and of each commit that freed a time: record what the
    booking events freed, lapse offers past their time, refill what is open, expire
    entries past their last day."""
    from support.waitlist import waitlist_expire

    now = now or timezone.now()
    with transaction.atomic():
        recorded = freed_times_record(salon=salon, now=now)
    lapsed = offers_lapse(salon=salon, now=now)
    open_ids = list(
        FreedTime.objects.filter(done_at__isnull=True, end__gt=now)
        .order_by("start", "id")
        .values_list("pk", flat=True)[:200]
    )
    made = sum(len(freed_time_refill(freed_id=pk, now=now)) for pk in open_ids)
    expired = waitlist_expire(salon=salon, now=now)
    return {"recorded": len(recorded), "lapsed": len(lapsed), "offers": made, "expired": expired}
