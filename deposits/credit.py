"""The credit ledger: what a cancelled deposit leaves the client for a new appointment.

Every movement is an entry; nothing is ever a stored balance. A grant carries its expiry;
uses, lapses and refunds are entries against a grant, so what is left of it is derived.
"""

import datetime as dt

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from bookings.models import Booking, Status
from customers.models import Customer

from .models import CreditEntry, CreditKind, Payment


def credit_left(grant: CreditEntry) -> int:
    """What is left of a grant: its amount less what was used, refunded or lapsed."""
    spent = grant.entries.aggregate(total=Sum("amount"))["total"] or 0
    return int(grant.amount) - int(spent)


def credit_live(
    entries: QuerySet[CreditEntry], now: dt.datetime | Now
) -> tuple[QuerySet[CreditEntry], QuerySet[CreditEntry]]:
    """The rule of what credit is still owed, written once: of `entries`, the grants not
    yet lapsed at `now`, and what was used, refunded or lapsed against them. A balance is
    the first's amounts less the second's, for a client (`credit_balance`), for every
    client of a list in SQL (the customers' `credit_balance` figure) or for a salon (what
    it still owes)."""
    granted = entries.filter(kind=CreditKind.GRANTED, expires_at__gt=now)
    spent = entries.filter(~Q(kind=CreditKind.GRANTED), grant__expires_at__gt=now)
    return granted, spent


def credit_total(entries: QuerySet[CreditEntry]) -> int:
    return int(entries.aggregate(total=Sum("amount"))["total"] or 0)


def credit_balance(
    *, customer: Customer, now: dt.datetime | None = None, made_by: Booking | None = None
) -> int:
    """What the client can spend now: the unspent part of grants not yet lapsed; with
    `made_by`, of the grants that booking's own money made (what its manage link may show
    and spend to someone who has not proved who she is)."""
    now = now or timezone.now()
    entries = CreditEntry.objects.filter(customer=customer)
    granted, spent = credit_live(entries, now)
    if made_by is not None:
        granted, spent = granted.filter(booking=made_by), spent.filter(grant__booking=made_by)
    return credit_total(granted) - credit_total(spent)


def credit_grants_open(
    *, customer: Customer, now: dt.datetime | None = None
) -> list[tuple[CreditEntry, int]]:
    """The client's grants with something left to spend now, each with what is left, the
    first to lapse first (what she sees of her credit: how much, until when)."""
    now = now or timezone.now()
    grants = CreditEntry.objects.filter(
        customer=customer, kind=CreditKind.GRANTED, expires_at__gt=now
    ).order_by("expires_at", "id")
    return [(grant, left) for grant in grants if (left := credit_left(grant)) > 0]


def credit_balance_locked(*, customer: Customer, made_by: Booking | None = None) -> int:
    """The client's balance (with `made_by`, as in `credit_balance`), read once the grants
    it is made of are locked (inside the caller's transaction): what a concurrent spender
    cannot spend too."""
    now = timezone.now()
    grants = CreditEntry.objects.filter(
        customer=customer, kind=CreditKind.GRANTED, expires_at__gt=now
    )
    if made_by is not None:
        grants = grants.filter(booking=made_by)
    list(
        grants.select_for_update(no_key=True)
        .order_by("expires_at", "id")
        .values_list("pk", flat=True)
    )
    return credit_balance(customer=customer, now=now, made_by=made_by)


def _spent_on(booking_id: int, salon_id: int) -> tuple[int, int]:
    """What of the client's credit a booking used, and what of it was given back."""
    entries = CreditEntry.objects.filter(booking_id=booking_id)
    used = entries.filter(kind=CreditKind.USED).aggregate(total=Sum("amount"))["total"]
    # Credit the salon gave to settle what it owed (arrhes repaid twice) is not credit
    # given back.
    back = entries.filter(
        kind=CreditKind.GRANTED, payment__isnull=True, owed_settlement__isnull=True
    ).aggregate(total=Sum("amount"))["total"]
    return int(used or 0), int(back or 0)


def credit_given_back(*, booking: Booking) -> bool:
    """The booking spent credit, and all of it came back (it lapsed, or was cancelled)."""
    used, back = _spent_on(booking.pk, booking.salon_id)
    return used > 0 and back >= used


def credit_grant(
    *,
    customer: Customer,
    amount: int,
    currency: str,
    valid_days: int,
    booking: Booking | None = None,
    payment: Payment | None = None,
) -> CreditEntry:
    return CreditEntry.objects.create(
        salon_id=customer.salon_id,
        customer=customer,
        kind=CreditKind.GRANTED,
        amount=amount,
        currency=currency,
        booking=booking,
        payment=payment,
        expires_at=timezone.now() + dt.timedelta(days=valid_days),
    )


def credit_use(
    *, customer: Customer, amount: int, booking: Booking, made_by: Booking | None = None
) -> int:
    """Spend up to `amount` of the client's credit on `booking`, the grants that lapse
    first spent first (with `made_by`, only the grants that booking's money made).
    Returns what was spent. Runs inside the caller's transaction."""
    now = timezone.now()
    grants = (
        CreditEntry.objects.select_for_update(no_key=True)
        .filter(customer=customer, kind=CreditKind.GRANTED, expires_at__gt=now)
        .order_by("expires_at", "id")
    )
    if made_by is not None:
        grants = grants.filter(booking=made_by)
    spent = 0
    for grant in grants:
        take = min(credit_left(grant), amount - spent)
        if take <= 0:
            continue
        CreditEntry.objects.create(
            salon_id=customer.salon_id,
            customer=customer,
            kind=CreditKind.USED,
            amount=take,
            currency=grant.currency,
            grant=grant,
            booking=booking,
        )
        spent += take
        if spent == amount:
            break
    return spent


def credit_restore(*, booking: Booking, now: dt.datetime | None = None) -> int:
    """The credit spent on a booking that is cancelled comes back to the client, valid as
    long as the credit it came from; inside the caller's transaction. Returns the amount
    restored: what was spent on the booking and not yet given back, so restoring twice
    restores nothing more."""
    now = now or timezone.now()
    entries = CreditEntry.objects.filter(booking=booking)
    used = list(entries.filter(kind=CreditKind.USED).select_related("grant"))
    spent = sum(entry.amount for entry in used)
    # A restoration is a grant for the booking that no payment made.
    given_back = (
        entries.filter(kind=CreditKind.GRANTED, payment__isnull=True).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    left = spent - int(given_back)
    expires_at = max(
        (entry.grant.expires_at for entry in used if entry.grant.expires_at), default=None
    )
    if left <= 0 or expires_at is None or expires_at <= now:
        return 0
    CreditEntry.objects.create(
        salon_id=booking.salon_id,
        customer_id=booking.customer_id,
        kind=CreditKind.GRANTED,
        amount=left,
        currency=used[0].currency,
        booking=booking,
        expires_at=expires_at,
    )
    return left


def credits_expire(*, salon_id: int, now: dt.datetime | None = None) -> int:
    """Record the lapse of what is left of each grant past its expiry (beat, daily)."""
    now = now or timezone.now()
    lapsed = 0
    with transaction.atomic():
        lapsed = _expire(salon_id, now)
    return lapsed


def _expire(salon_id: int, now: dt.datetime) -> int:
    lapsed = 0
    for grant in (
        CreditEntry.objects.select_for_update(skip_locked=True, no_key=True)
        .filter(kind=CreditKind.GRANTED, expires_at__lte=now)
        .exclude(entries__kind=CreditKind.EXPIRED)
    ):
        left = credit_left(grant)
        if left > 0:
            CreditEntry.objects.create(
                salon_id=salon_id,
                customer_id=grant.customer_id,
                kind=CreditKind.EXPIRED,
                amount=left,
                currency=grant.currency,
                grant=grant,
            )
            lapsed += 1
    return lapsed


def credits_restore_lapsed(*, salon_id: int, now: dt.datetime | None = None) -> int:
    """The credit spent on rebookings whose hold lapsed unpaid comes back, once (inside
    the caller's transaction; each booking locked, so two sweeps restore it once).
    Returns how many bookings got theirs back."""
    now = now or timezone.now()
    entries = CreditEntry.objects.all()
    used = (
        entries.filter(booking=OuterRef("pk"), kind=CreditKind.USED)
        .values("booking")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    back = (
        entries.filter(booking=OuterRef("pk"), kind=CreditKind.GRANTED, payment__isnull=True)
        .values("booking")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    lapsed = (
        Booking.objects.filter(
            Exists(
                entries.filter(
                    booking=OuterRef("pk"), kind=CreditKind.USED, grant__expires_at__gt=now
                )
            ),
            status=Status.EXPIRED,
        )
        .annotate(used=Coalesce(Subquery(used), 0), back=Coalesce(Subquery(back), 0))
        .filter(used__gt=F("back"))
        .select_for_update(skip_locked=True, no_key=True, of=("self",))
    )
    restored = 0
    for booking in lapsed:
        if credit_restore(booking=booking, now=now):
            restored += 1
    return restored
