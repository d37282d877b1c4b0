"""Calendar subscriptions: a private `.ics` address per staff member (their appointments)
and one per salon (everyone's, for the owner), for the calendar app on their phone.

The address carries a secret drawn here and given once; only its SHA-256 digest is kept,
so the table alone opens no feed. Revoking a feed makes its address unknown (404); issuing
a new one revokes the one before. What a feed tells of the clients is kept to what the
day needs: the first name and the service (web/desk/feeds.py writes it).
"""

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tenants.models import Salon

from .models import BookingItem, CalendarFeed, StaffMember, Status
from .services import Actor

# What a feed shows: the recent past (what happened this month) and what is booked ahead.
FEED_PAST = dt.timedelta(days=31)
FEED_AHEAD = dt.timedelta(days=366)
FEED_STATUSES = (Status.PENDING_PAYMENT, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW)


def _user(actor: Actor) -> object | None:
    return actor if actor is not None and actor.is_authenticated else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_issue(
    *, salon: Salon, staff: StaffMember | None, actor: Actor
) -> tuple[CalendarFeed, str]:
    """A new feed of `staff`'s appointments (the salon's, when None), and the secret of its
    address, given once. The feed it replaces, if any, is revoked."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        calendar_feed_revoke(salon=salon, staff=staff, actor=actor)
        feed = CalendarFeed.objects.create(
            salon=salon, staff=staff, digest=_digest(token), created_by=_user(actor)
        )
    return feed, token


def calendar_feed_revoke(*, salon: Salon, staff: StaffMember | None, actor: Actor) -> int:
    """Revoke the live feed of `staff` (the salon's, when None): its address answers 404
    from now on. How many were revoked (0 or 1)."""
    return calendar_feeds_live(salon=salon, staff=staff).update(
        revoked_at=timezone.now(), revoked_by=_user(actor)
    )


def calendar_feeds_live(
    *, salon: Salon, staff: StaffMember | None = None
) -> QuerySet[CalendarFeed]:
    feeds = CalendarFeed.objects.filter(salon=salon, revoked_at=None)
    return feeds.filter(staff=staff) if staff is not None else feeds.filter(staff=None)


def calendar_feeds_of(*, salon: Salon) -> list[CalendarFeed]:
    """The salon's live feeds (the salon's own has no staff member)."""
    return list(CalendarFeed.objects.filter(salon=salon, revoked_at=None))


def calendar_feed_find(*, token: str) -> CalendarFeed | None:
    """The live feed (of the current salon's scope) whose address carries `token`."""
    if not token or len(token) > 128:
        return None
    return (
        CalendarFeed.objects.select_related("salon", "staff")
        .filter(digest=_digest(token), revoked_at=None)
        .first()
    )


def calendar_feed_items(
    *, feed: CalendarFeed, now: dt.datetime | None = None
) -> QuerySet[BookingItem]:
    """The appointments a feed lists: each service of a visit with its staff member (the
    feed's, for a staff member's), of bookings held, confirmed or past, from a month back
    to a year ahead. One query."""
    now = now or timezone.now()
    items = BookingItem.objects.select_related(
        "booking", "booking__customer", "service", "staff"
    ).filter(
        booking__status__in=FEED_STATUSES,
        start__gte=now - FEED_PAST,
        start__lt=now + FEED_AHEAD,
    )
    if feed.staff_id is not None:
        items = items.filter(staff_id=feed.staff_id)
    return items.order_by("start", "id")
