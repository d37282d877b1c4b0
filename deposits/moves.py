"""What moving a booking does with its money, said before staff confirm: the preview of
`booking_move`, by its rules (the same as the client's own move: what was paid moves with
the appointment; a booking moved after its free-cancellation deadline keeps that deadline,
a move never reopens the window; a held booking moved sooner is still held only until its
new start). And a digest of the days' payments, for the desk's live refresh."""

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.utils import timezone

from bookings.models import Booking, Status
from bookings.schedule import day_bounds
from tenants.models import Salon

from .models import Payment, PaymentStatus
from .payments import cancellation_deadline, deposit_state
from .selectors import policy_get


@dataclass(frozen=True)
class MoveOutcome:
    """`money`: "paid" (moves with it), "pending" (the link still pays it), "waived",
    "settled" (refunded, credited or kept: nothing to move) or "none"; `amount` in cents;
    `deadline_kept`: the deadline has passed and stays where it was."""

    money: str
    amount: int
    currency: str
    deadline: dt.datetime
    deadline_kept: bool
    hold_until: dt.datetime | None


def move_outcome(
    *, booking: Booking, start: dt.datetime, now: dt.datetime | None = None
) -> MoveOutcome:
    now = now or timezone.now()
    policy, _steps = policy_get(salon=booking.salon)
    window = dt.timedelta(hours=policy.cancellation_window_hours)
    payments = list(Payment.objects.filter(booking=booking))
    state = deposit_state(booking, payments)
    status = str(state["status"])
    if status in ("paid", "paid_at_desk"):
        money, amount = "paid", int(str(state["paid"]))
    elif status == "pending":
        money = "pending"
        amount = sum(p.amount for p in payments if p.status == PaymentStatus.PENDING)
    elif status in ("waived", "none"):
        money, amount = status, 0
    else:
        money, amount = "settled", 0
    current = cancellation_deadline(booking, policy.cancellation_window_hours)
    kept = now > current
    hold = booking.hold_expires_at if booking.status == Status.PENDING_PAYMENT else None
    if hold is not None and hold > start:
        hold = start
    return MoveOutcome(
        money=money,
        amount=amount,
        currency=booking.currency,
        deadline=current if kept else start - window,
        deadline_kept=kept,
        hold_until=hold,
    )


def day_payments(*, salon: Salon, first: dt.date, last: dt.date) -> list[Payment]:
    """The payments of the days' bookings (what their deposit states and the desk's live
    refresh read of them): one query."""
    begin, end = day_bounds(salon, first, last)
    return list(
        Payment.objects.filter(booking__start__gte=begin, booking__start__lt=end)
        .only(
            "booking_id", "amount", "status", "provider", "outcome", "replaced_by_id", "updated_at"
        )
        .order_by("id")
    )


def deposit_states(payments: list[Payment]) -> dict[int, dict[str, object]]:
    """`deposit_state` of each booking these payments are for, by booking id (a booking
    without one has none: `NO_DEPOSIT`)."""
    by_booking: dict[int, list[Payment]] = {}
    for payment in payments:
        by_booking.setdefault(payment.booking_id, []).append(payment)
    # deposit_state reads only the payments it is given: one unsaved booking stands for all.
    anyone = Booking()
    return {pk: deposit_state(anyone, rows) for pk, rows in by_booking.items()}


NO_DEPOSIT: dict[str, object] = {"amount": 0, "paid": 0, "status": "none"}


def payments_fingerprint(payments: list[Payment]) -> str:
    """A digest of the days' payments: it changes when one is paid, waived, refunded or
    added."""
    digest = hashlib.blake2b(digest_size=8)
    for p in payments:
        digest.update(repr((p.pk, p.status, p.outcome, p.updated_at)).encode())
    return digest.hexdigest()
