"""What the desk does with a booking awaiting its payment link: the client pays at the desk
(cash, the card terminal, another way), or staff waive the deposit, with the reason.

Either way the link is given up: its payment is cancelled (here, then its intent at the
provider, after commit) and points at the desk's payment that took its place, and the
booking is confirmed. Should the client pay the link all the same (the provider cannot
cancel an intent already paid), that money is refunded, as for any payment taken after
its booking stopped waiting for it (`payments._settle_late`). Who did it, how, and why,
is on the desk's payment row and in the booking's audit trail.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking, Status
from bookings.services import Actor, booking_confirm, booking_event
from core.errors import Invalid

from .models import DESK, DeskMethod, Payment, PaymentKind, PaymentOutcome, PaymentStatus
from .payments import intent_cancel

NOTE_LENGTH = 300


def _user(actor: Actor) -> object | None:
    return actor if actor is not None and actor.is_authenticated else None


def _settle_at_desk(
    *,
    booking: Booking,
    actor: Actor,
    waived: bool,
    amount: int | None,
    method: str,
    note: str,
) -> Payment:
    # The module's lock order (deposits.payments): the booking, then its payments.
    with transaction.atomic():
        locked = (
            Booking.objects.select_for_update(no_key=True, of=("self",))
            .select_related("salon", "customer", "service", "staff")
            .get(pk=booking.pk)
        )
        if locked.status != Status.PENDING_PAYMENT:
            raise Invalid([_("This booking is no longer awaiting a payment.")])
        links = list(
            Payment.objects.select_for_update(no_key=True, of=("self",)).filter(
                booking=locked, status=PaymentStatus.PENDING
            )
        )
        if not links:
            raise Invalid([_("This booking is no longer awaiting a payment.")])
        due = sum(p.amount for p in links)
        taken = due if amount is None else amount
        desk = Payment.objects.create(
            salon_id=locked.salon_id,
            booking=locked,
            kind=PaymentKind.FULL if taken >= locked.price else links[0].kind,
            amount=taken,
            currency=locked.currency,
            provider=DESK,
            status=PaymentStatus.WAIVED if waived else PaymentStatus.SUCCEEDED,
            paid_at=None if waived else timezone.now(),
            recorded_by=_user(actor),
            note=note,
            method="" if waived else method,
        )
        for link in links:
            link.status, link.outcome, link.replaced_by = (
                PaymentStatus.CANCELED,
                PaymentOutcome.REFUNDED,
                desk,
            )
            link.save(update_fields=["status", "outcome", "replaced_by", "updated_at"])
        details = {"amount": taken, "replaces": [link.pk for link in links]}
        if waived:
            booking_event(locked, "deposit_waived", actor=actor, by="staff", reason=note, **details)
        else:
            booking_event(
                locked,
                "deposit_paid_at_desk",
                actor=actor,
                by="staff",
                method=method,
                note=note,
                **details,
            )
        booking_confirm(booking=locked, actor=actor, by="staff")
    for link in links:
        intent_cancel(link)
    return desk


def deposit_paid_at_desk(
    *, booking: Booking, amount: int, method: str, actor: Actor, note: str = ""
) -> Payment:
    """The client of a booking awaiting its payment link paid `amount` (cents) at the desk,
    by `method`: recorded without the provider, the link given up, the booking confirmed.
    Raises Invalid (`amount`, `method`, or as a whole when nothing is awaited any more)."""
    errors = {}
    if method not in DeskMethod.values:
        errors["method"] = [_("Choose how the client paid.")]
    if amount <= 0:
        errors["amount"] = [_("Give the amount paid.")]
    elif amount > booking.price:
        errors["amount"] = [_("The amount paid is more than the price of the booking.")]
    if errors:
        raise Invalid(errors)
    return _settle_at_desk(
        booking=booking,
        actor=actor,
        waived=False,
        amount=amount,
        method=method,
        note=note.strip()[:NOTE_LENGTH],
    )


def deposit_waive(*, booking: Booking, reason: str, actor: Actor) -> Payment:
    """Staff waive the deposit of a booking awaiting its payment link, saying why: the link
    is given up and the booking confirmed. Raises Invalid (`reason` when none is given)."""
    if not reason.strip():
        raise Invalid({"reason": [_("Say why the deposit is waived.")]})
    return _settle_at_desk(
        booking=booking,
        actor=actor,
        waived=True,
        amount=None,
        method="",
        note=reason.strip()[:NOTE_LENGTH],
    )
