"""Accepting an offered time: the booking, held while its deposit is paid as for any
booking (`deposits.checkout.checkout_place`), or the client's own booking moved there
(what she paid moves with her).

Exactly one booking comes of a time, whoever accepts it and however often: the booking is
written in the same transaction as the offer's change to `accepted` (a conditional update),
and PostgreSQL's exclusion constraint decides between two clients after the same time.
A client who clicks twice is answered the same booking; one who comes second is told the
time was taken, and keeps her place on the list.
"""

import datetime as dt
import re

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from bookings.models import ACTIVE_STATUSES, Booking, Source
from core.errors import OfferExpired, SlotTaken
from deposits.checkout import CheckoutRequest, checkout_place
from deposits.payments import Checkout, booking_move
from support.models import FreedTime, OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus
from support.refill import offers_taken


class _AnsweredMeanwhile(Exception):
    """The offer was answered by another request while this one booked: undo."""


_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,40}")


def offer_salon_id(token: str) -> int | None:
    """The salon an offer's token belongs to (looked up across salons: the door then
    enters that salon's scope), or None."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    with scopes_disabled():
        return WaitlistOffer.objects.filter(token=token).values_list("salon_id", flat=True).first()


def offer_by_token(token: str) -> WaitlistOffer | None:
    """The offer, in the ambient salon's scope (another salon's token: None)."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    return (
        WaitlistOffer.objects.select_related("salon", "entry__customer", "staff", "move", "booking")
        .filter(token=token)
        .first()
    )


def offer_state(offer: WaitlistOffer, now: dt.datetime | None = None) -> str:
    """The offer as its client sees it: `open`, `accepted`, `lapsed` (also an open one
    past its time, before the sweep comes by) or `taken`."""
    now = now or timezone.now()
    if offer.status == OfferStatus.OPEN and offer.expires_at <= now:
        return OfferStatus.LAPSED
    return str(offer.status)


def _accepted(offer: WaitlistOffer, booking: Booking, now: dt.datetime) -> None:
    """Inside the booking's transaction: the offer accepted (once), the entry booked, the
    freed time refilled, and the other open offers its booking overlaps taken."""
    claimed = WaitlistOffer.objects.filter(pk=offer.pk, status=OfferStatus.OPEN).update(
        status=OfferStatus.ACCEPTED, answered_at=now, booking=booking
    )
    if not claimed:
        raise _AnsweredMeanwhile()
    WaitlistEntry.objects.filter(pk=offer.entry_id).update(
        status=WaitlistStatus.BOOKED, booking=booking
    )
    if offer.freed_id is not None:
        FreedTime.objects.filter(pk=offer.freed_id, refilled_by__isnull=True).update(
            refilled_by=booking, refilled_at=now, done_at=now
        )
    others = WaitlistOffer.objects.filter(
        status=OfferStatus.OPEN,
        staff_id=offer.staff_id,
        start__lt=booking.end,
        end__gt=booking.start,
    ).exclude(pk=offer.pk)
    # Her other open offers close too: she has her time.
    hers = WaitlistOffer.objects.filter(status=OfferStatus.OPEN, entry_id=offer.entry_id).exclude(
        pk=offer.pk
    )
    offers_taken(offers=list(others), now=now)
    offers_taken(offers=list(hers), now=now, tell=False)


def _refuse(offer: WaitlistOffer, now: dt.datetime) -> None:
    """Raise what the offer's state says, when it cannot be accepted now."""
    state = offer_state(offer, now)
    if state == OfferStatus.LAPSED:
        raise OfferExpired()
    if state == OfferStatus.TAKEN:
        raise SlotTaken(
            "This time was taken by someone else meanwhile; you keep your place on the list."
        )


def offer_accept(
    *, offer: WaitlistOffer, payment_option: str = "deposit", now: dt.datetime | None = None
) -> tuple[Booking, Checkout | None]:
    """Accept the offer: the booking (held while its deposit is due) and its checkout, or
    the client's booking moved to the time (no checkout). Accepting twice answers the
    same booking. Raises OfferExpired past its time, SlotTaken when the time was taken
    meanwhile (the offer `taken`, the client's place kept), Invalid when the payment
    option is refused."""
    now = now or timezone.now()
    if offer.status == OfferStatus.ACCEPTED and offer.booking is not None:
        return offer.booking, None
    _refuse(offer, now)
    try:
        move = offer.move
        if move is not None and move.status in ACTIVE_STATUSES and move.start > now:
            return _move(offer, move, now), None
        # Her other booking was cancelled or has begun since: the time is booked anew.
        entry = offer.entry
        checkout = checkout_place(
            CheckoutRequest(
                salon=offer.salon,
                service_id=None,
                service_ids=tuple(entry.service_ids),
                start=offer.start,
                staff_id=offer.staff_id,
                known=entry.customer,
                payment_option=payment_option,
                channel=Source.WAITLIST,
                within=lambda booking: _accepted(offer, booking, now),
            )
        )
        return checkout.booking, checkout
    except (_AnsweredMeanwhile, SlotTaken):
        fresh = offer_by_token(offer.token)
        if fresh is not None and fresh.status == OfferStatus.ACCEPTED and fresh.booking:
            return fresh.booking, None  # the same client, a click ahead
        if fresh is not None:
            if fresh.status == OfferStatus.OPEN:
                offers_taken(offers=[fresh], now=now, tell=False)
                fresh.refresh_from_db()
            _refuse(fresh, now)
        raise SlotTaken(
            "This time was taken by someone else meanwhile; you keep your place on the list."
        ) from None


def _move(offer: WaitlistOffer, booking: Booking, now: dt.datetime) -> Booking:
    """Her booking later that week moves to the offered time (booking_move: what she
    paid moves with it, and a passed cancellation deadline stays)."""
    with transaction.atomic():
        moved = booking_move(booking=booking, start=offer.start, staff=offer.staff)
        _accepted(offer, moved, now)
    return moved


def offers_of(entry: WaitlistEntry) -> list[WaitlistOffer]:
    """The entry's offers, the latest first."""
    return list(WaitlistOffer.objects.filter(entry=entry).order_by("-offered_at", "-id"))
