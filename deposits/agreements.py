"""What a booking was agreed under, and what the salon owes back when it withdraws.

- `booking_terms_record`: inside the checkout's transaction, the terms the client was
  shown (deposits/terms.py), the policy's version, her acceptance (when she books online;
  when she pays a phone booking's link: `booking_terms_accept`; at the desk, stated by the
  staff member) and her express request.
- `owed_record`: when the salon cancels a booking whose deposit was arrhes, what it paid
  back is owed once more (Code de la consommation, L214-1): a ledger row.
- `owed_settle`: the salon settles it once, as credit the client accepts or paid by the
  salon, with who and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings.models import Booking, Source
from bookings.services import Actor, booking_event
from core.errors import Conflict

from .credit import credit_grant
from .models import (
    BookingTerms,
    DepositKind,
    DepositPolicy,
    OwedEntry,
    OwedHow,
    OwedKind,
    Payment,
    PaymentStatus,
    TermsChannel,
)
from .selectors import policy_get
from .terms import booking_terms_text, express_asked, withdrawal_info


class NothingOwed(Conflict):
    """Nothing is owed to the client on this booking, or it was settled already."""

    code = "nothing_owed"
    default_message = "Nothing is owed to the client on this booking."


def _user(actor: Actor) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def booking_terms_record(
    *,
    booking: Booking,
    policy: DepositPolicy,
    deposit: int,
    language: str,
    channel: str,
    express_request: bool | None = None,
    accepted: bool = True,
    actor: Actor = None,
) -> BookingTerms:
    """Inside the caller's transaction: the terms `booking` is made under, written in
    `language` as the client is shown them. The express request counts only when it is
    asked (the right of withdrawal applies and the appointment is within its 14 days):
    elsewhere it is null."""
    now = timezone.now()
    tz = booking.salon.tz
    with translation.override(language):
        text = booking_terms_text(
            policy, deposit=deposit, currency=booking.currency, start=booking.start, tz=tz
        )
        info = withdrawal_info(policy.withdrawal_refund, start=booking.start, tz=tz, booked_at=now)
    asked = express_asked(policy.withdrawal_refund, start=booking.start, booked_at=now)
    return BookingTerms.objects.create(
        salon_id=booking.salon_id,
        booking=booking,
        policy_version=policy.version,
        deposit_kind=policy.deposit_kind,
        withdrawal_refund=policy.withdrawal_refund,
        language=language,
        text=text,
        withdrawal_info=info,
        accepted_at=now if accepted else None,
        accepted_by=_user(actor) if accepted else None,
        channel=channel,
        express_request=bool(express_request) if asked else None,
    )


def terms_channel(source: str, *, at_desk: bool = False) -> str:
    if at_desk:
        return TermsChannel.DESK
    return source if source in TermsChannel.values else TermsChannel.WEB


def booking_terms_accept(*, booking: Booking, at: dt.datetime | None = None) -> int:
    """A phone booking's terms, accepted when its client pays the link (sent with them):
    once, inside the payment's transaction."""
    return BookingTerms.objects.filter(booking=booking, accepted_at__isnull=True).update(
        accepted_at=at or timezone.now()
    )


def booking_terms(booking: Booking) -> BookingTerms | None:
    try:
        return booking.terms
    except BookingTerms.DoesNotExist:
        return None


def terms_answer(booking: Booking) -> dict[str, Any] | None:
    """API.md's `terms` of a booking; null for one made before terms were kept."""
    terms = booking_terms(booking)
    if terms is None:
        return None
    tz = booking.salon.tz
    return {
        "policy_version": terms.policy_version,
        "deposit_kind": terms.deposit_kind,
        "text": terms.text,
        "accepted_at": terms.accepted_at.astimezone(tz).isoformat() if terms.accepted_at else None,
        "channel": terms.channel,
        "withdrawal_info": terms.withdrawal_info,
        "express_request": terms.express_request,
    }


def withdrawal_open(booking: Booking, now: dt.datetime | None = None) -> bool:
    """The booking was made under the right of withdrawal, and its 14 days run still
    (before the appointment): a cancellation now gives back everything paid."""
    from .terms import WITHDRAWAL_DAYS

    terms = booking_terms(booking)
    if terms is None or terms.withdrawal_refund != "full":
        return False
    now = now or timezone.now()
    return now < booking.start and now < terms.created_at + dt.timedelta(days=WITHDRAWAL_DAYS)


# The reciprocity of arrhes ------------------------------------------------------------------


def _arrhes(booking: Booking) -> bool:
    terms = booking_terms(booking)
    if terms is not None:
        return terms.deposit_kind == DepositKind.ARRHES
    policy, _steps = policy_get(salon=booking.salon)
    return policy.deposit_kind == DepositKind.ARRHES


def owed_record(*, booking: Booking, refunded: list[Payment]) -> OwedEntry | None:
    """Inside the salon's cancellation: for arrhes, the same amount again as what the
    client paid of the deposit (of a full payment, its deposit's part), owed once."""
    if not _arrhes(booking):
        return None
    paid = sum(p.amount for p in refunded if p.status == PaymentStatus.SUCCEEDED)
    asked = sum(item.deposit_amount for item in booking.items.all())
    amount = min(paid, asked) if asked else 0
    if amount <= 0:
        return None
    entry, created = OwedEntry.objects.get_or_create(
        salon_id=booking.salon_id,
        booking=booking,
        kind=OwedKind.OWED,
        defaults={
            "customer_id": booking.customer_id,
            "amount": amount,
            "currency": booking.currency,
        },
    )
    if created:
        booking_event(booking, "arrhes_owed", by="system", amount=amount)
    return entry


def owed_to_client(booking: Booking) -> int:
    """What the salon still owes the client on this booking (beyond refunds); read from
    its entries when they were prefetched."""
    cache = getattr(booking, "_prefetched_objects_cache", {})
    if "owed_entries" in cache:
        entries = list(cache["owed_entries"])
        owed = sum(e.amount for e in entries if e.kind == OwedKind.OWED)
        return owed - sum(e.amount for e in entries if e.kind == OwedKind.SETTLED)
    totals = {
        row["kind"]: int(row["total"] or 0)
        for row in OwedEntry.objects.filter(booking=booking)
        .values("kind")
        .annotate(total=Sum("amount"))
    }
    return totals.get(OwedKind.OWED, 0) - totals.get(OwedKind.SETTLED, 0)


def owed_settle(*, booking: Booking, how: str, actor: Actor) -> OwedEntry:
    """Settle what is owed on `booking`, once: as credit the client accepted (a grant in
    the credit ledger, valid the policy's days), or paid by the salon (recorded with who
    and when). NothingOwed when nothing is owed, or it was settled already."""
    if how not in OwedHow.values:
        raise ValueError(how)
    with transaction.atomic():
        Booking.objects.select_for_update(no_key=True).filter(pk=booking.pk).first()
        owed = owed_to_client(booking)
        if owed <= 0:
            raise NothingOwed(_("Nothing is owed to the client on this booking."))
        credit = None
        if how == OwedHow.CREDIT:
            policy, _steps = policy_get(salon=booking.salon)
            credit = credit_grant(
                customer=booking.customer,
                amount=owed,
                currency=booking.currency,
                valid_days=policy.credit_valid_days,
                booking=booking,
            )
        entry = OwedEntry.objects.create(
            salon_id=booking.salon_id,
            booking=booking,
            customer_id=booking.customer_id,
            kind=OwedKind.SETTLED,
            amount=owed,
            currency=booking.currency,
            how=how,
            credit=credit,
            recorded_by=_user(actor),
        )
        booking_event(booking, "owed_settled", actor=actor, by="staff", amount=owed, how=how)
    return entry


def owed_open_total(*, salon_id: int) -> int:
    """What a salon still owes its clients, every booking together (its figures)."""
    totals = {
        row["kind"]: int(row["total"] or 0)
        for row in OwedEntry.objects.filter(salon_id=salon_id)
        .values("kind")
        .annotate(total=Sum("amount"))
    }
    return totals.get(OwedKind.OWED, 0) - totals.get(OwedKind.SETTLED, 0)


__all__ = [
    "NothingOwed",
    "Source",
    "booking_terms",
    "booking_terms_accept",
    "booking_terms_record",
    "owed_open_total",
    "owed_record",
    "owed_settle",
    "owed_to_client",
    "terms_answer",
    "terms_channel",
    "withdrawal_open",
]


def terms_message_line(booking: Booking, language: str) -> str:
    """What the money paid is and means, one line of a message to the client in her
    language (from the terms the booking was made under); empty when nothing was asked."""
    from .models import LateCancellation
    from .terms import kind_sentence

    terms = booking_terms(booking)
    deposit = sum(item.deposit_amount for item in booking.items.all())
    if terms is None or not deposit:
        return ""
    policy, _steps = policy_get(salon=booking.salon)
    with translation.override(language):
        return kind_sentence(
            terms.deposit_kind,
            late_credit=policy.late_cancellation == LateCancellation.CREDIT,
            amount=deposit,
            currency=booking.currency,
        )
