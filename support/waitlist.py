"""The waitlist: clients waiting for a time that suits them, and their links.

An entry names the services of the visit (in order), a staff member or anyone, two dates
of the salon's calendar and the parts of the day that suit (API.md, "Waitlist"). Joining
records the client's consent to be told of a freed time; leaving withdraws it. What the
salon does with a freed time (offers, in line or to everyone) is `support.refill`.
"""

import datetime as dt
from collections.abc import Sequence

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Service, StaffMember
from core.dates import today_in
from core.errors import Invalid
from customers.models import Customer
from support.models import PartOfDay, WaitlistEntry, WaitlistSource, WaitlistStatus
from support.services import Actor
from tenants.models import Salon

# How far apart an entry's two dates may be (a client waits for a time in the coming
# weeks, not for a whole season; the salon's booking horizon bounds it too).
MAX_SPAN_DAYS = 92

# Where each part of the day starts and ends, in the salon's wall-clock hours.
PARTS_OF_DAY = {
    PartOfDay.MORNING: (dt.time(0, 0), dt.time(12, 0)),
    PartOfDay.AFTERNOON: (dt.time(12, 0), dt.time(17, 0)),
    PartOfDay.EVENING: (dt.time(17, 0), None),
}

# Entries still active: waiting, or holding an open offer.
ACTIVE = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def consent_text() -> str:
    """The words the client agrees to when joining, stored with the entry."""
    return _(
        "Tell me by text message or e-mail when a time that suits me frees up. "
        "I can leave the waitlist at any time."
    )


def part_of_day(at: dt.datetime, tz: "dt.tzinfo") -> str:
    """The part of the salon's day a moment falls in."""
    local = at.astimezone(tz).time()
    if local < dt.time(12, 0):
        return PartOfDay.MORNING
    if local < dt.time(17, 0):
        return PartOfDay.AFTERNOON
    return PartOfDay.EVENING


def entry_suits(entry: WaitlistEntry, start: dt.datetime, tz: "dt.tzinfo") -> bool:
    """Whether a visit starting at `start` is within the entry's wishes: its dates and
    parts of the day, in the salon's time zone. (Services and staff are the caller's.)"""
    day = start.astimezone(tz).date()
    if not entry.first_date <= day <= entry.last_date:
        return False
    return not entry.parts_of_day or part_of_day(start, tz) in entry.parts_of_day


_SALT = "support.waitlist"


def waitlist_token(entry: WaitlistEntry) -> str:
    """The entry's link credential: signed (salon, entry, nonce); a new nonce revokes it."""
    return signing.dumps([entry.salon_id, entry.pk, entry.nonce], salt=_SALT)


def waitlist_token_salon(token: str) -> int | None:
    """The salon a genuine token names (the door enters its scope), or None."""
    try:
        salon_id = signing.loads(token, salt=_SALT)[0]
    except (signing.BadSignature, TypeError, ValueError, IndexError, KeyError):
        return None
    return salon_id if isinstance(salon_id, int) else None


def waitlist_entry_for_token(token: str) -> WaitlistEntry | None:
    """The entry a genuine token names (any salon: the caller scopes to its salon), or None."""
    try:
        salon_id, entry_id, nonce = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return (
        WaitlistEntry.objects.select_related("salon", "customer", "service", "staff")
        .filter(salon_id=salon_id, pk=entry_id, nonce=nonce)
        .first()
    )


def waitlist_check(
    *,
    salon: Salon,
    services: Sequence[Service],
    staff: StaffMember | None,
    first: dt.date,
    last: dt.date,
    parts_of_day: Sequence[str],
    consent: bool,
    now: dt.datetime,
) -> None:
    """Raise `Invalid`, field by field, when the wishes cannot make an entry."""
    errors: dict[str, list[str]] = {}
    if not services:
        errors["services"] = [_("Choose at least one service.")]
    elif any(s.salon_id != salon.pk or not s.active for s in services):
        errors["services"] = [_("One of these services is not offered.")]
    elif staff is not None:
        can_do = set(staff.services.values_list("pk", flat=True))
        if staff.salon_id != salon.pk or not staff.active:
            errors["staff"] = [_("This staff member is not bookable.")]
        elif any(s.pk not in can_do for s in services):
            errors["staff"] = [_("This staff member does not offer every service chosen.")]
    today = today_in(salon.tz, now)
    horizon = today + dt.timedelta(days=salon.max_advance_days)
    if last < first:
        errors["to"] = [_("The last day is before the first.")]
    elif last < today:
        errors["to"] = [_("These dates are past.")]
    elif (last - first).days > MAX_SPAN_DAYS:
        errors["to"] = [
            _("Choose at most %(days)d days between the two dates.") % {"days": MAX_SPAN_DAYS}
        ]
    elif first > horizon:
        errors["from"] = [_("The salon does not take bookings that far ahead.")]
    unknown = [p for p in parts_of_day if p not in PartOfDay.values]
    if unknown:
        errors["parts_of_day"] = [
            _("One of: %(values)s.") % {"values": ", ".join(PartOfDay.values)}
        ]
    if consent is not True:
        errors["consent"] = [_("Agree to be told when a time frees up, or we cannot tell you.")]
    if errors:
        raise Invalid(errors)


@transaction.atomic
def waitlist_join(
    *,
    salon: Salon,
    customer: Customer,
    services: Sequence[Service],
    staff: StaffMember | None,
    first: dt.date,
    last: dt.date,
    parts_of_day: Sequence[str],
    consent: bool,
    source: str,
    actor: Actor = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Put the client on the waitlist for a visit of `services`, in order.

    The same wishes twice (a form sent again) give the entry already waiting, not a second
    place in the line.
    """
    now = now or timezone.now()
    waitlist_check(
        salon=salon,
        services=services,
        staff=staff,
        first=first,
        last=last,
        parts_of_day=parts_of_day,
        consent=consent,
        now=now,
    )
    today = today_in(salon.tz, now)
    service_ids = [s.pk for s in services]
    parts = sorted(set(parts_of_day), key=list(PartOfDay.values).index)
    first = max(first, today)
    same = WaitlistEntry.objects.filter(
        salon=salon,
        customer=customer,
        status__in=ACTIVE,
        service_ids=service_ids,
        staff=staff,
        first_date=first,
        last_date=last,
        parts_of_day=parts,
    ).first()
    if same is not None:
        return same
    return WaitlistEntry.objects.create(
        salon=salon,
        customer=customer,
        service_ids=service_ids,
        service=services[0],
        staff=staff,
        first_date=first,
        last_date=last,
        parts_of_day=parts,
        source=WaitlistSource(source),
        joined_at=now,
        consent_at=now,
        consent_text=consent_text(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


@transaction.atomic
def waitlist_leave(*, entry: WaitlistEntry, now: dt.datetime | None = None) -> WaitlistEntry:
    """The client leaves the list (one click from any message or page): no offer is made
    to her again; an open offer lapses at once, so the time goes to the next client."""
    from support.models import OfferStatus

    now = now or timezone.now()
    locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.status not in ACTIVE:
        return locked
    locked.status = WaitlistStatus.LEFT
    locked.left_at = now
    locked.save(update_fields=["status", "left_at"])
    locked.offers.filter(status=OfferStatus.OPEN).update(status=OfferStatus.LAPSED, answered_at=now)
    return locked


def waitlist_expire(*, salon: Salon, now: dt.datetime | None = None) -> int:
    """Entries whose last day has passed (in the salon's calendar) expire."""
    now = now or timezone.now()
    today = today_in(salon.tz, now)
    return WaitlistEntry.objects.filter(
        salon=salon, status=WaitlistStatus.WAITING, last_date__lt=today
    ).update(status=WaitlistStatus.EXPIRED)
