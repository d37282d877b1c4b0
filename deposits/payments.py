"""Taking the money: the online checkout and what Stripe tells us about it.

The local rows come first and are committed, then the provider is called with an
idempotency key derived from the row, then the result is recorded (STYLE.md: no network
call inside a long transaction). Payment state only moves forward, and only from verified
webhooks or objects fetched back from the provider (DESIGN.md, invariant 5).

Locks are taken in one order everywhere: the booking, then its payments, then the credit
grants. The webhook, the cancellation, the rebooking with credit and the sweeps all follow
it, so that two of them at once wait for each other instead of deadlocking.
"""

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from bookings.models import Booking, Service, Source, StaffMember, Status
from bookings.selectors import Catalogue, VisitPart, visit_parts
from bookings.services import (
    Actor,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_event,
    booking_parts,
    booking_reinstate,
    booking_release,
    booking_reschedule,
)
from core.errors import Invalid, ProviderUnavailable
from core.languages import language_choose
from customers.models import Customer
from tenants.models import Salon
from tenants.scoping import salon_scope

from .agreements import (
    booking_terms_accept,
    booking_terms_record,
    owed_record,
    terms_channel,
    withdrawal_open,
)
from .credit import (
    credit_balance,
    credit_balance_locked,
    credit_given_back,
    credit_grant,
    credit_restore,
    credit_use,
    credits_restore_lapsed,
)
from .gateway import GatewayError, WebhookEvent, payment_gateway
from .guarantee import (
    card_awaited,
    card_guarantee_amount,
    card_request,
    card_setup_open,
    fee_hold_release,
    fee_intent_succeeded,
    setup_event_apply,
)
from .models import (
    DESK,
    LateCancellation,
    Payment,
    PaymentKind,
    PaymentOutcome,
    PaymentStatus,
    Refund,
    SavedCard,
    StripeEvent,
)
from .paylinks import PaymentLink
from .rules import VisitQuote
from .selectors import deposit_quote_visit, policy_get, salon_today
from .setup import stripe_account_updated

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkout:
    booking: Booking
    deposit: int  # the deposit the policy asks
    payment: Payment | None  # what is due now, when anything is
    link: PaymentLink | None = None  # a phone booking's payment link, once sent
    card: SavedCard | None = None  # the card on file the booking waits for, if asked


def _visit_quote(
    salon: Salon, parts: Sequence[VisitPart], customer: Customer, policy: Any
) -> VisitQuote:
    return deposit_quote_visit(
        salon=salon,
        services=[part.service for part in parts],
        day=salon_today(salon),
        customer=customer,
        policy=policy,
    )


def checkout_hold(
    *,
    salon: Salon,
    parts: Sequence[VisitPart] = (),
    service: Service | None = None,
    start: dt.datetime,
    customer: Customer,
    staff: StaffMember | None = None,
    payment_option: str = "deposit",
    source: str = Source.WEB,
    notes: str = "",
    hold_for: dt.timedelta | None = None,
    actor: Actor = None,
    catalogue: Catalogue | None = None,
    spend_credit: bool = False,
    comeback_of: int | None = None,
    language: str | None = None,
    express_request: bool | None = None,
) -> Checkout:
    """Inside the caller's transaction: the booking of the visit's `parts` (or of one
    `service`), held while a payment is due (for `hold_for`, by default the policy's hold
    minutes).

    The deposit is the policy's on each item, clamped once for the visit; the full
    payment, the visit's total. With `spend_credit` (the client proved who she is), her
    credit pays what it can of that, the grants that lapse first spent first, and only the
    rest is charged. Nothing left due: the booking is confirmed at once. Raises
    Invalid (by field) when the policy refuses the payment option, ProviderUnavailable
    when money is due and no provider is configured, SlotTaken when the time is taken.
    """
    parts = parts or visit_parts([service] if service else [])
    policy, steps = policy_get(salon=salon)
    quoted = _visit_quote(salon, parts, customer, (policy, steps))
    if payment_option == "full":
        if not policy.allow_full_payment:
            raise Invalid({"payment_option": [_("This salon takes a deposit only.")]})
        kind, due = PaymentKind.FULL, sum(part.service.price for part in parts)
    else:
        kind, due = PaymentKind.DEPOSIT, quoted.amount
    credit = 0
    if spend_credit and due:
        # Her grants are locked before the booking's time is (as a rebooking does), and
        # stay locked until this transaction ends: two checkouts at once never spend the
        # same credit. A retried transaction starts again from the ledger as committed.
        credit = min(due, credit_balance_locked(customer=customer))
    due -= credit
    if due:
        try:
            provider = payment_gateway().name
        except GatewayError as exc:
            raise ProviderUnavailable() from exc
    # Online, the policy may ask the client for a card on file too (deposits/guarantee.py):
    # the booking is then held until it is saved.
    guarantee = (
        card_guarantee_amount(
            policy=policy,
            customer=customer,
            price=sum(part.service.price for part in parts),
            deposit=quoted.amount,
            paid_now=due + credit,
        )
        if actor is None
        else 0
    )
    booking = booking_create(
        salon=salon,
        parts=parts,
        deposits=quoted.items,
        staff=staff,
        start=start,
        customer=customer,
        source=source,
        notes=notes,
        actor=actor,
        catalogue=catalogue,
        comeback_of=comeback_of,
        hold_until=(
            timezone.now() + (hold_for or dt.timedelta(minutes=policy.hold_minutes))
            if due or guarantee
            else None
        ),
    )
    # Online, the client accepts the terms the page (or the API's client) showed her by
    # booking; a phone booking's client, when she pays its link, which shows them.
    booking_terms_record(
        booking=booking,
        policy=policy,
        deposit=quoted.amount,
        language=_terms_language(salon, customer, language),
        channel=terms_channel(source),
        express_request=express_request,
        accepted=actor is None,
    )
    card = (
        card_request(
            booking=booking,
            customer=customer,
            amount=guarantee,
            language=language or customer.language,
        )
        if guarantee
        else None
    )
    if credit:
        spent = credit_use(customer=customer, amount=credit, booking=booking)
        if spent != credit:  # the grants were locked above: never happens
            raise RuntimeError(f"booking {booking.pk}: credit {credit} read, {spent} spent")
        booking_event(booking, "credit_spent", by="client", amount=credit)
    if not due:
        return Checkout(booking, quoted.amount, None, card=card)
    payment = Payment.objects.create(
        salon=salon,
        booking=booking,
        kind=kind,
        amount=due,
        currency=salon.currency,
        account=salon.stripe_account or "",
        provider=provider,
    )
    return Checkout(booking, quoted.amount, payment, card=card)


def checkout_at_desk(
    *,
    salon: Salon,
    parts: Sequence[VisitPart] = (),
    service: Service | None = None,
    start: dt.datetime,
    customer: Customer,
    staff: StaffMember | None,
    actor: Actor,
    waived: bool,
    reason: str = "",
    payment_option: str = "deposit",
    notes: str = "",
    catalogue: Catalogue | None = None,
) -> Checkout:
    """Inside the caller's transaction: a booking taken by staff whose deposit is paid at
    the desk (cash, card terminal) or waived, confirmed at once. The payment row records
    who did it and, for a waiver, why; the booking's audit trail says it too."""
    parts = parts or visit_parts([service] if service else [])
    policy, steps = policy_get(salon=salon)
    quoted = _visit_quote(salon, parts, customer, (policy, steps))
    if payment_option == "full" and not policy.allow_full_payment:
        raise Invalid({"payment_option": [_("This salon takes a deposit only.")]})
    total = sum(part.service.price for part in parts)
    due = total if payment_option == "full" else quoted.amount
    if waived and not reason.strip():
        raise Invalid({"waiver_reason": [_("Say why the deposit is waived.")]})
    booking = booking_create(
        salon=salon,
        parts=parts,
        deposits=quoted.items,
        staff=staff,
        start=start,
        customer=customer,
        source=Source.PHONE,
        notes=notes,
        actor=actor,
        catalogue=catalogue,
    )
    # The desk states the terms to the client on the phone or at the counter.
    booking_terms_record(
        booking=booking,
        policy=policy,
        deposit=quoted.amount,
        language=_terms_language(salon, customer, None),
        channel=terms_channel(Source.PHONE, at_desk=True),
        actor=actor,
    )
    payment = None
    if due:
        payment = Payment.objects.create(
            salon=salon,
            booking=booking,
            kind=PaymentKind.FULL if payment_option == "full" else PaymentKind.DEPOSIT,
            amount=due,
            currency=salon.currency,
            provider=DESK,
            status=PaymentStatus.WAIVED if waived else PaymentStatus.SUCCEEDED,
            paid_at=None if waived else timezone.now(),
            recorded_by=actor if actor is not None and actor.is_authenticated else None,
            note=reason.strip()[:300],
        )
        booking_event(
            booking,
            "deposit_waived" if waived else "deposit_paid_at_desk",
            actor=actor,
            by="staff",
            amount=due,
            reason=reason.strip()[:300],
        )
    return Checkout(booking, quoted.amount, payment)


def _terms_language(salon: Salon, customer: Customer, language: str | None) -> str:
    """The language the client is shown the terms in: the page's, else her own."""
    return language or language_choose(salon.languages, person=customer.language)


def checkout_charge(checkout: Checkout) -> Checkout:
    """After the hold is committed: the PaymentIntent. When the provider fails, the hold
    is released and the payment marked failed, so nothing stays blocked or orphaned.
    Money taken at the desk (or waived) is not the provider's: nothing to open."""
    booking = checkout.booking
    if checkout.card is not None:
        try:
            card_setup_open(checkout.card)
        except GatewayError as exc:
            log.warning("card %s: the provider failed: %s", checkout.card.pk, exc)
            with transaction.atomic():
                booking_release(booking=booking, reason="payment provider unavailable")
                credit_restore(booking=booking)
                if checkout.payment is not None:
                    Payment.objects.filter(
                        pk=checkout.payment.pk, status=PaymentStatus.PENDING
                    ).update(status=PaymentStatus.FAILED)
            raise ProviderUnavailable() from exc
    payment = checkout.payment
    if payment is None or payment.provider == DESK:
        return checkout
    try:
        intent = payment_gateway().create_intent(
            amount=payment.amount,
            currency=payment.currency,
            metadata={
                "salon": booking.salon.slug,
                "booking": str(booking.pk),
                "payment": str(payment.pk),
            },
            idempotency_key=payment.key("create"),
            account=payment.account or None,
        )
    except GatewayError as exc:
        log.warning("payment %s: the provider failed: %s", payment.pk, exc)
        with transaction.atomic():
            booking_release(booking=booking, reason="payment provider unavailable")
            credit_restore(booking=booking)  # the credit it spent, at once
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
                status=PaymentStatus.FAILED
            )
        raise ProviderUnavailable() from exc
    Payment.objects.filter(pk=payment.pk).update(
        intent_id=intent.id, client_secret=intent.client_secret
    )
    payment.intent_id, payment.client_secret = intent.id, intent.client_secret
    return checkout


SETUP_EVENTS = {"setup_intent.succeeded", "setup_intent.setup_failed"}
HANDLED_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
}
REFUND_EVENTS = {"refund.updated", "refund.failed"}
# A refund's status moves forward only: pending may become anything, and nothing else moves.
REFUND_FINAL = {"succeeded", "failed", "canceled"}


def _refund_settle(refund: Refund, status: str) -> None:
    """A refund's outcome, as Stripe reports it later (refunds can take days)."""
    if status not in REFUND_FINAL:
        return
    Refund.objects.filter(pk=refund.pk).exclude(status__in=REFUND_FINAL).update(status=status)


def stripe_event_apply(event: WebhookEvent) -> str:
    """Apply a verified Stripe event once: recorded with its effect in one transaction,
    under a unique event id, so a redelivery (or a concurrent one) changes nothing.

    An event whose connected account, amount or currency is not the payment's changes
    nothing: it is recorded as a mismatch, and logged. Returns what happened: applied,
    duplicate, ignored or mismatch."""
    if event.type == "account.updated" and event.data.get("object") == "account":
        return _account_event_apply(event)
    if event.type in SETUP_EVENTS and event.data.get("object") == "setup_intent":
        return setup_event_apply(event)
    intent_id = event.data.get("id") if event.data.get("object") == "payment_intent" else None
    # The event names no salon: the payment (or refund) it is about is looked up across
    # salons, and acted on in its own salon's scope below.
    with scopes_disabled():
        payment = (
            Payment.objects.filter(intent_id=intent_id).first()
            if event.type in HANDLED_EVENTS and intent_id
            else None
        )
        refund = (
            Refund.objects.select_related("payment").filter(refund_id=event.data.get("id")).first()
            if event.type in REFUND_EVENTS and event.data.get("object") == "refund"
            else None
        )
    status = "applied" if payment is not None or refund is not None else "ignored"
    problem = _mismatch(event, payment, refund)
    if problem:
        log.warning(
            "stripe event %s (%s) ignored: its %s is not the payment's",
            event.id,
            event.type,
            problem,
        )
        status = "mismatch"
    to_send: list[Refund] = []
    try:
        with transaction.atomic():
            StripeEvent.objects.create(
                event_id=event.id,
                type=event.type,
                status=status,
                error=f"{problem} differs" if problem else "",
            )
            if status == "applied" and payment is not None:
                with salon_scope(payment.salon_id):
                    to_send = _apply(event.type, payment)
            if status == "applied" and refund is not None:
                with salon_scope(refund.salon_id):
                    _refund_settle(refund, str(event.data.get("status", "")))
            if (
                status == "ignored"
                and event.type == "payment_intent.succeeded"
                and isinstance(intent_id, str)
                and fee_intent_succeeded(
                    intent_id=intent_id,
                    amount=event.data.get("amount"),
                    currency=event.data.get("currency", ""),
                    account=event.account or "",
                )
            ):
                StripeEvent.objects.filter(event_id=event.id).update(status="applied")
                status = "applied"
    except IntegrityError as error:
        if "event_id" not in str(error) and "stripeevent" not in str(error).lower():
            raise
        return "duplicate"
    _refunds_send(to_send)
    return status


def _account_event_apply(event: WebhookEvent) -> str:
    """A connected account's new state (setup.py), kept once with the event's record."""
    try:
        with transaction.atomic():
            found = stripe_account_updated(event)
            StripeEvent.objects.create(
                event_id=event.id, type=event.type, status="applied" if found else "ignored"
            )
    except IntegrityError as error:
        if "event_id" not in str(error) and "stripeevent" not in str(error).lower():
            raise
        return "duplicate"
    return "applied" if found else "ignored"


def _mismatch(event: WebhookEvent, payment: Payment | None, refund: Refund | None) -> str:
    """What of the event is not the payment's: "account", "amount", "currency" or ""."""
    paid = payment if payment is not None else (refund.payment if refund is not None else None)
    if paid is None:
        return ""
    if (event.account or "") != (paid.account or ""):
        return "account"
    if payment is None:
        return ""  # a refund's progress: the account is what tells whose it is
    amount = event.data.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount != payment.amount:
        return "amount"
    if str(event.data.get("currency", "")).upper() != payment.currency.upper():
        return "currency"
    return ""


def _refunds_send(refunds: list[Refund]) -> None:
    for refund in refunds:
        with salon_scope(refund.salon_id):
            refund_send(refund)


def _lock(payment: Payment) -> tuple[Booking, Payment]:
    """The payment's booking, then the payment, locked in that order (the module's order).
    FOR NO KEY UPDATE of the rows themselves: rows that merely point at them do not wait."""
    booking = (
        Booking.objects.select_for_update(no_key=True, of=("self",))
        .select_related("salon", "service", "customer", "staff")
        .get(pk=payment.booking_id)
    )
    locked = Payment.objects.select_for_update(no_key=True, of=("self",)).get(pk=payment.pk)
    locked.booking = booking
    return booking, locked


def _apply(event_type: str, payment: Payment) -> list[Refund]:
    """Inside the event's transaction. Returns the refunds to ask for once it commits."""
    booking, locked = _lock(payment)
    if event_type == "payment_intent.succeeded":
        return _succeeded(booking, locked)
    if event_type == "payment_intent.canceled" and locked.status == PaymentStatus.PENDING:
        locked.status = PaymentStatus.CANCELED
        locked.save(update_fields=["status", "updated_at"])
    # payment_intent.payment_failed: the client may try again until the hold lapses.
    return []


def _succeeded(booking: Booking, payment: Payment) -> list[Refund]:
    """The provider took the money (booking and payment locked). Nothing is ever left
    paid and unaccounted for:

    - for a held booking, it is confirmed;
    - for a booking whose hold lapsed, the time is taken back if it is still free (unless
      the credit spent on it was given back meanwhile), else the money is refunded;
    - for a booking cancelled meanwhile (the payment was abandoned, its intent could not
      be cancelled since it had succeeded), the money is refunded or kept as credit, as
      the cancellation said, and the client is told (the booking event `paid_late`).
    A payment already recorded as paid changes nothing more."""
    was = payment.status
    if was == PaymentStatus.SUCCEEDED:
        return []
    payment.status, payment.paid_at = PaymentStatus.SUCCEEDED, timezone.now()
    abandoned = was in (PaymentStatus.CANCELED, PaymentStatus.FAILED)
    if booking.status == Status.CANCELLED or (
        abandoned and (payment.outcome or booking.status != Status.EXPIRED)
    ):
        return _settle_late(booking, payment)
    payment.save(update_fields=["status", "paid_at", "updated_at"])
    booking_terms_accept(booking=booking, at=payment.paid_at)
    if booking.status == Status.PENDING_PAYMENT and card_awaited(booking) is None:
        booking_confirm(booking=booking)
    elif booking.status == Status.EXPIRED and (
        credit_given_back(booking=booking) or not booking_reinstate(booking=booking)
    ):
        return [_refund(payment, reason="slot_lost")]
    return []


def _refund(payment: Payment, *, reason: str) -> Refund:
    """Inside the caller's transaction, the payment locked: all of it refunded, once."""
    payment.outcome = PaymentOutcome.REFUNDED
    payment.save(update_fields=["outcome", "updated_at"])
    refund, _created = Refund.objects.get_or_create(
        salon_id=payment.salon_id,
        payment=payment,
        reason=reason,
        defaults={"amount": payment.amount},
    )
    refund.payment = payment
    return refund


def _settle_late(booking: Booking, payment: Payment) -> list[Refund]:
    """Money taken for a booking cancelled meanwhile: refunded, or credit when the client
    chose credit when cancelling inside the window (the payment's outcome says which,
    recorded when the cancellation abandoned it)."""
    policy, _steps = policy_get(salon=booking.salon)
    credit = payment.outcome == PaymentOutcome.CREDITED and not booking.cancelled_by_salon
    refunds: list[Refund] = []
    if credit:
        payment.outcome = PaymentOutcome.CREDITED
        payment.save(update_fields=["status", "paid_at", "outcome", "updated_at"])
        credit_grant(
            customer=booking.customer,
            amount=payment.amount,
            currency=payment.currency,
            valid_days=policy.credit_valid_days,
            booking=booking,
            payment=payment,
        )
    else:
        payment.save(update_fields=["status", "paid_at", "updated_at"])
        refunds.append(_refund(payment, reason="paid_after_cancellation"))
    booking_event(
        booking,
        "paid_late",
        by="system",
        outcome=payment.outcome,
        amount=payment.amount,
        payment=payment.pk,
    )
    return refunds


def payment_succeeded_fetched(payment: Payment) -> str:
    """An intent fetched back from the provider says it succeeded (its cancel was refused
    because the client had just paid): applied as its webhook would be, once."""
    with salon_scope(payment.salon_id):
        with transaction.atomic():
            refunds = _apply("payment_intent.succeeded", payment)
        _refunds_send(refunds)
    return "applied"


# Cancellations and what becomes of the money ---------------------------------------------


def deposit_state(booking: Booking, payments: list[Payment] | None = None) -> dict[str, object]:
    """{amount, paid, status} of API.md: what was asked, what was paid, what became of it.

    `payments`: the booking's payments when the caller loaded them already (a day of
    bookings reads its payments in one query)."""
    if payments is None:
        payments = list(Payment.objects.filter(booking=booking))
    # A link given up for the desk counts no more: the desk's payment says it all.
    payments = [p for p in payments if p.replaced_by_id is None]
    asked = sum(p.amount for p in payments if p.status != PaymentStatus.FAILED)
    paid = [p for p in payments if p.status == PaymentStatus.SUCCEEDED]
    if paid:
        outcomes = {p.outcome for p in paid}
        at_desk = all(p.provider == DESK for p in paid)
        status = next(
            (o for o in ("refunded", "credited", "forfeited") if o in outcomes),
            "paid_at_desk" if at_desk else "paid",
        )
    elif any(p.status == PaymentStatus.PENDING for p in payments):
        status = "pending"
    elif any(p.status == PaymentStatus.WAIVED for p in payments):
        status = "waived"
    else:
        status = "none"
    return {"amount": asked, "paid": sum(p.amount for p in paid), "status": status}


def pending_payment(booking: Booking) -> Payment | None:
    """The payment the client still has to make for this booking, if any."""
    return Payment.objects.filter(booking=booking, status=PaymentStatus.PENDING).first()


def cancellation_deadline(booking: Booking, window_hours: int | None = None) -> dt.datetime:
    """Until when the client may cancel for free: the start less the salon's window, or
    the deadline the booking kept when it moved after it had passed (a move never reopens
    the window)."""
    if window_hours is None:
        policy, _steps = policy_get(salon=booking.salon)
        window_hours = policy.cancellation_window_hours
    deadline = booking.start - dt.timedelta(hours=window_hours)
    if booking.cancellation_deadline is not None:
        return min(deadline, booking.cancellation_deadline)
    return deadline


def _in_window(booking: Booking, window_hours: int) -> bool:
    return timezone.now() <= cancellation_deadline(booking, window_hours)


def booking_move(
    *,
    booking: Booking,
    start: dt.datetime,
    staff: StaffMember | None = None,
    actor: Actor = None,
) -> Booking:
    """Move a held or confirmed booking (what was paid moves with it). Moved after its
    cancellation deadline, it keeps that deadline wherever it goes."""
    policy, _steps = policy_get(salon=booking.salon)
    return booking_reschedule(
        booking=booking,
        start=start,
        staff=staff,
        actor=actor,
        cancellation_window=dt.timedelta(hours=policy.cancellation_window_hours),
    )


@dataclass(frozen=True)
class CancellationOutcome:
    """What a client's cancellation would do with the money, said before they confirm."""

    paid: int  # paid and not yet settled: what the outcome applies to
    currency: str
    in_window: bool  # the client may choose refund or credit
    outcome: str  # "nothing" (nothing paid), "choice", "credit" or "forfeit"
    credit_valid_days: int
    credit_back: bool  # credit spent on the booking would come back


def cancellation_outcome(booking: Booking) -> CancellationOutcome:
    """The preview of `booking_cancel_with_money` for the client, by the same rules."""
    policy, _steps = policy_get(salon=booking.salon)
    in_window = _in_window(booking, policy.cancellation_window_hours) or withdrawal_open(booking)
    paid = sum(
        p.amount
        for p in Payment.objects.filter(booking=booking, status=PaymentStatus.SUCCEEDED, outcome="")
    )
    if not paid:
        outcome = "nothing"
    elif in_window:
        outcome = "choice"
    elif policy.late_cancellation == LateCancellation.CREDIT:
        outcome = "credit"
    else:
        outcome = "forfeit"
    credit_back = in_window or policy.late_cancellation == LateCancellation.CREDIT
    return CancellationOutcome(
        paid, booking.currency, in_window, outcome, policy.credit_valid_days, credit_back
    )


@dataclass(frozen=True)
class Cancelled:
    """A cancellation recorded in the caller's transaction, and what the provider is to be
    asked once it commits (`cancellation_settle`)."""

    booking: Booking
    refunds: list[Refund]
    abandoned: list[Payment]


def booking_cancel_with_money(
    *,
    booking: Booking,
    resolution: str = "refund",
    by_salon: bool = False,
    actor: Actor = None,
    reason: str = "",
) -> Booking:
    """Cancel, and settle what was paid (DESIGN.md, "The deposit policy"):

    - by the salon: refunded in full;
    - by the client before the window closes: refunded, or kept as credit if they prefer;
    - later: kept as credit for a new appointment, or kept by the salon, as the policy says.
    Credit spent on the booking comes back as credit in the first cases, is kept in the
    last. An unpaid payment's intent is cancelled. Cancelling twice changes nothing more.
    """
    with transaction.atomic():
        cancelled = booking_cancel_recorded(
            booking=booking, resolution=resolution, by_salon=by_salon, actor=actor, reason=reason
        )
    cancellation_settle(cancelled)
    return cancelled.booking


def booking_cancel_recorded(
    *,
    booking: Booking,
    resolution: str = "refund",
    by_salon: bool = False,
    actor: Actor = None,
    reason: str = "",
) -> Cancelled:
    """The part of `booking_cancel_with_money` that is written to the database, in the
    caller's transaction (which records, with it, what called for it); the caller then
    calls `cancellation_settle` after the commit, never before: no provider is called
    inside a transaction."""
    policy, _steps = policy_get(salon=booking.salon)
    # Within the right of withdrawal (when the booking was made under it), as inside the
    # free-cancellation window.
    in_window = _in_window(booking, policy.cancellation_window_hours) or withdrawal_open(booking)
    refunds: list[Refund] = []
    abandoned: list[Payment] = []
    salon_refunded: list[Payment] = []
    with transaction.atomic():
        cancelled = booking_cancel(booking=booking, actor=actor, by_salon=by_salon, reason=reason)
        payments = Payment.objects.select_for_update(no_key=True)
        for payment in payments.filter(booking=booking):
            if payment.status == PaymentStatus.PENDING:
                # Nothing was paid yet. Should the client's payment go through all the
                # same (the intent cannot be cancelled once paid), its money is refunded,
                # or kept as credit when that is what the client chose: recorded now.
                payment.status = PaymentStatus.CANCELED
                payment.outcome = (
                    PaymentOutcome.CREDITED
                    if not by_salon and in_window and resolution == "credit"
                    else PaymentOutcome.REFUNDED
                )
                payment.save(update_fields=["status", "outcome", "updated_at"])
                abandoned.append(payment)
                continue
            if payment.status != PaymentStatus.SUCCEEDED or payment.outcome:
                continue
            if by_salon or (in_window and resolution != "credit"):
                payment.outcome = PaymentOutcome.REFUNDED
                if by_salon:
                    salon_refunded.append(payment)
                refunds.append(
                    Refund.objects.create(
                        salon_id=payment.salon_id,
                        payment=payment,
                        amount=payment.amount,
                        reason="salon_cancelled" if by_salon else "client_cancelled",
                    )
                )
            elif in_window or policy.late_cancellation == LateCancellation.CREDIT:
                payment.outcome = PaymentOutcome.CREDITED
                credit_grant(
                    customer=cancelled.customer,
                    amount=payment.amount,
                    currency=payment.currency,
                    valid_days=policy.credit_valid_days,
                    booking=cancelled,
                    payment=payment,
                )
            else:
                payment.outcome = PaymentOutcome.FORFEITED
            payment.save(update_fields=["outcome", "updated_at"])
        # Credit spent on the booking (a cancellation turned into this reschedule) comes
        # back as credit whenever a payment would have been refunded or credited.
        if by_salon or in_window or policy.late_cancellation == LateCancellation.CREDIT:
            credit_restore(booking=cancelled)
        if by_salon and salon_refunded:
            # Arrhes: the salon that withdraws repays them twice (L214-1).
            owed_record(booking=cancelled, refunded=salon_refunded)
    return Cancelled(cancelled, refunds, abandoned)


def cancellation_settle(cancelled: Cancelled) -> None:
    """Ask the provider for the refunds and intent cancellations of a committed
    cancellation (each idempotent by its row)."""
    for refund in cancelled.refunds:
        refund_send(refund)
    for payment in cancelled.abandoned:
        intent_cancel(payment)
    fee_hold_release(booking=cancelled.booking)  # a fee held on the card is the client's again


def refund_send(refund: Refund) -> Refund:
    """Ask the provider for a recorded refund (idempotent by its row): after commit.

    Money taken at the desk is handed back at the desk: its refund stays pending, for the
    staff to settle, and no provider is asked."""
    payment = refund.payment
    if payment.provider == DESK:
        return refund
    try:
        result = payment_gateway().refund(
            intent_id=payment.intent_id or "",
            amount=refund.amount,
            idempotency_key=f"{payment.key('refund')}:{refund.pk}",
            metadata={
                "salon": payment.booking.salon.slug,
                "booking": str(payment.booking_id),
                "payment": str(payment.pk),
            },
            account=payment.account or None,
        )
    except GatewayError:
        log.warning("refund %s failed; it will be retried", refund.pk, exc_info=True)
        return refund
    Refund.objects.filter(pk=refund.pk).update(status=result.status, refund_id=result.id)
    refund.status, refund.refund_id = result.status, result.id
    return refund


def intent_cancel(payment: Payment) -> None:
    """Cancel an unpaid intent at the provider (idempotent by the payment), after commit.

    The client may have paid in the meantime: the provider then refuses (or ignores) the
    cancel, and the intent is fetched back; when it succeeded, its money is settled at
    once as its webhook would settle it, whichever comes first."""
    if not payment.intent_id:
        return
    try:
        gateway = payment_gateway()
    except GatewayError:
        log.warning("payment %s: no provider to cancel its intent", payment.pk, exc_info=True)
        return
    try:
        intent = gateway.cancel_intent(
            intent_id=payment.intent_id,
            idempotency_key=payment.key("cancel"),
            account=payment.account or None,
        )
    except GatewayError:
        log.warning("payment %s: the intent could not be cancelled", payment.pk, exc_info=True)
        try:
            intent = gateway.retrieve_intent(
                intent_id=payment.intent_id, account=payment.account or None
            )
        except GatewayError:
            log.warning("payment %s: the intent could not be fetched", payment.pk, exc_info=True)
            return  # its webhook settles it
    if (
        intent.status == "succeeded"
        and intent.amount == payment.amount
        and intent.currency.upper() == payment.currency.upper()
    ):
        payment_succeeded_fetched(payment)


def payments_abandon_lapsed(*, salon_id: int) -> int:
    """Pending payments of bookings whose hold lapsed: cancelled here and at the provider
    (beat, every minute, after the hold sweep); and the credit such a booking spent (a
    rebooking whose difference was never paid) comes back, once."""
    with transaction.atomic():
        # The bookings first, then their payments: the order of every path.
        expired = list(
            Booking.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
            .filter(
                Exists(
                    Payment.objects.filter(booking=OuterRef("pk"), status=PaymentStatus.PENDING)
                ),
                status=Status.EXPIRED,
            )
            .values_list("pk", flat=True)
        )
        lapsed = list(
            Payment.objects.select_for_update(no_key=True, of=("self",)).filter(
                status=PaymentStatus.PENDING, booking_id__in=expired
            )
        )
        for payment in lapsed:
            payment.status = PaymentStatus.CANCELED
            payment.save(update_fields=["status", "updated_at"])
        restored = credits_restore_lapsed(salon_id=salon_id)
    for payment in lapsed:
        intent_cancel(payment)
    return len(lapsed) + restored


def booking_rebookable(booking: Booking) -> bool:
    """A booking cancelled with credit, or whose rebooking lapsed unpaid, may come back
    at a new time while credit is left."""
    return (
        booking.status in (Status.CANCELLED, Status.EXPIRED)
        and Payment.objects.filter(
            booking=booking, outcome=PaymentOutcome.CREDITED, status=PaymentStatus.SUCCEEDED
        ).exists()
        and credit_balance(customer=booking.customer) > 0
    )


def booking_rebook_with_credit(
    *,
    booking: Booking,
    start: dt.datetime,
    staff: StaffMember | None = None,
    proven: bool = False,
) -> Checkout:
    """A booking cancelled with credit (or whose rebooking lapsed unpaid) comes back at a
    new time, paid by the credit: confirmed when the credit covers the deposit due, held
    for the difference otherwise (then charged like any booking once this commits). The
    credit is the booking's own money's, and the client's other credit once she proved who
    she is (`proven`).

    The credit is read and spent under its grants' locks, inside the transaction that
    rebooks: two rebookings at once never spend the same credit; what the credit does not
    cover is charged, and nothing is rebooked when no credit is left."""
    own = None if proven else booking
    salon = booking.salon
    policy, steps = policy_get(salon=salon)
    if not Payment.objects.filter(
        booking=booking, outcome=PaymentOutcome.CREDITED, status=PaymentStatus.SUCCEEDED
    ).exists():
        raise Invalid(
            {"non_field_errors": [_("This booking was cancelled; please book a new appointment.")]}
        )
    due = _visit_quote(salon, booking_parts(booking), booking.customer, (policy, steps)).amount
    with transaction.atomic():
        # The booking, then the credit grants: the order of every path.
        locked = (
            Booking.objects.select_for_update(no_key=True, of=("self",))
            .select_related("salon", "service", "customer", "staff")
            .get(pk=booking.pk)
        )
        if locked.status == Status.EXPIRED:
            credit_restore(booking=locked)  # what the lapsed rebooking spent, if the sweep
            # has not given it back yet
        if credit_balance_locked(customer=locked.customer, made_by=own) <= 0:
            raise Invalid({"non_field_errors": [_("The credit of this booking has lapsed.")]})
        spent = (
            credit_use(customer=locked.customer, amount=due, booking=locked, made_by=own)
            if due
            else 0
        )
        rest = due - spent
        provider = ""
        if rest:
            try:
                provider = payment_gateway().name
            except GatewayError as exc:
                raise ProviderUnavailable() from exc
        hold_until = timezone.now() + dt.timedelta(minutes=policy.hold_minutes) if rest else None
        rebooked = booking_reschedule(
            booking=locked, start=start, staff=staff, rebook=True, hold_until=hold_until
        )
        payment = None
        if rest:
            payment = Payment.objects.create(
                salon=salon,
                booking=rebooked,
                kind=PaymentKind.DEPOSIT,
                amount=rest,
                currency=salon.currency,
                account=salon.stripe_account or "",
                provider=provider,
            )
    return Checkout(rebooked, due, payment)


# A payment the checkout committed but never opened at the provider: the process that
# should have called the provider died. Older than this, no request is still on it.
STRANDED_AFTER = dt.timedelta(minutes=2)


def _intent_replay(payment: Payment) -> str | None:
    """The create call, replayed under the payment's own idempotency key: the intent made
    the first time if there was one, or a new one. None when the provider still fails."""
    try:
        intent = payment_gateway().create_intent(
            amount=payment.amount,
            currency=payment.currency,
            metadata={
                "salon": payment.booking.salon.slug,
                "booking": str(payment.booking_id),
                "payment": str(payment.pk),
            },
            idempotency_key=payment.key("create"),
            account=payment.account or None,
        )
    except GatewayError:
        return None
    Payment.objects.filter(pk=payment.pk, intent_id__isnull=True).update(
        intent_id=intent.id, client_secret=intent.client_secret
    )
    payment.intent_id, payment.client_secret = intent.id, intent.client_secret
    return intent.id


def _stranded_settle(payment: Payment, now: dt.datetime) -> bool:
    """A held booking whose payment was never opened (a crash between the commit and the
    provider call). A phone booking still holding its slot gets its intent, and its link
    is sent (the `payment_link_due` event); anything else is released, its intent (if the
    provider made one) cancelled below. True when settled."""
    booking = payment.booking
    hold = booking.hold_expires_at
    if booking.source == Source.PHONE and hold is not None and hold > now:
        if _intent_replay(payment) is None:
            return False  # still down: next time
        booking_event(booking, "payment_link_due", by="system", payment=payment.pk)
        return True
    # Online, the client who waited for the payment form was answered an error long ago.
    with transaction.atomic():
        Payment.objects.filter(
            pk=payment.pk, status=PaymentStatus.PENDING, intent_id__isnull=True
        ).update(status=PaymentStatus.FAILED)
        booking_release(booking=booking, reason="the payment was never opened")
    return True


def payments_reconcile(*, salon_id: int, now: dt.datetime | None = None) -> int:
    """Settle what a provider failure or a crash left in doubt (beat, every minute).
    Returns how many rows it settled.

    - A held booking whose payment was committed but never opened at the provider (the
      process died in between): a phone booking still within its hold gets its intent,
      replayed under the same idempotency key, and its payment link; any other is released.
    - A payment whose intent could not be created may still exist at the provider (a
      timeout after it was made): the create is replayed with the same idempotency key,
      which returns that intent (or makes one), and it is cancelled, so nothing is left
      that a client could pay for a booking that was released.
    - A refund the provider did not take is asked for again, under its own key.
    """
    now = now or timezone.now()
    settled = 0
    stranded = (
        Payment.objects.select_related("booking__salon")
        .filter(
            status=PaymentStatus.PENDING,
            intent_id__isnull=True,
            created_at__lt=now - STRANDED_AFTER,
            booking__status=Status.PENDING_PAYMENT,
        )
        .exclude(provider=DESK)
    )
    for payment in stranded:
        settled += _stranded_settle(payment, now)
    doubtful = Payment.objects.select_related("booking__salon").filter(
        status=PaymentStatus.FAILED, intent_id__isnull=True
    )
    for payment in doubtful:
        if _intent_replay(payment) is None:
            continue  # still down: next time
        intent_cancel(payment)
        settled += 1
    for refund in (
        Refund.objects.select_related("payment__booking__salon")
        .filter(status="pending", refund_id__isnull=True)
        .exclude(payment__provider=DESK)
    ):
        if refund_send(refund).refund_id:
            settled += 1
    return settled
