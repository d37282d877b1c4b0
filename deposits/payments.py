"""Taking the money: the online checkout and what Stripe tells us about it.

The local rows come first and are committed, then the provider is called with an
idempotency key derived from the row, then the result is recorded (STYLE.md: no network
call inside a long transaction). Payment state only moves forward, and only from verified
webhooks or objects fetched back from the provider (DESIGN.md, invariant 5).
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking, Service, Source, StaffMember, Status
from bookings.services import (
    Actor,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_event,
    booking_reinstate,
    booking_release,
    booking_reschedule,
)
from config.api import PaymentProviderError
from customers.models import Customer
from tenants.models import Salon
from tenants.scoping import salon_scope

from .credit import credit_balance, credit_grant, credit_restore, credit_use
from .gateway import GatewayError, WebhookEvent, payment_gateway
from .models import (
    DESK,
    LateCancellation,
    Payment,
    PaymentKind,
    PaymentOutcome,
    PaymentStatus,
    Refund,
    StripeEvent,
)
from .selectors import deposit_quote, policy_get, salon_today

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkout:
    booking: Booking
    deposit: int  # the deposit the policy asks
    payment: Payment | None  # what is due now, when anything is


def checkout_hold(
    *, salon: Salon, service: Service, start: dt.datetime, customer: Customer,
    staff: StaffMember | None = None, payment_option: str = "deposit",
    source: str = Source.ONLINE, notes: str = "", hold_for: dt.timedelta | None = None,
    actor: Actor = None,
) -> Checkout:  # fmt: skip
    """Inside the caller's transaction: the booking, held while a payment is due (for
    `hold_for`, by default the policy's hold minutes).

    Nothing due: the booking is confirmed at once. Raises ValidationError (by field) when
    the policy refuses the payment option, PaymentProviderError when money is due and no
    provider is configured, SlotUnavailable when the time is taken.
    """
    policy, steps = policy_get(salon=salon)
    deposit = deposit_quote(
        salon=salon, service=service, day=salon_today(salon), customer=customer,
        policy=(policy, steps),
    ).amount  # fmt: skip
    if payment_option == "full":
        if not policy.allow_full_payment:
            raise ValidationError({"payment_option": [_("This salon takes a deposit only.")]})
        kind, due = PaymentKind.FULL, service.price
    else:
        kind, due = PaymentKind.DEPOSIT, deposit
    if due == 0:
        booking = booking_create(salon=salon, service=service, staff=staff, start=start,
                                 customer=customer, source=source, notes=notes,
                                 actor=actor)  # fmt: skip
        return Checkout(booking, deposit, None)
    try:
        provider = payment_gateway().name
    except GatewayError as exc:
        raise PaymentProviderError() from exc
    booking = booking_create(
        salon=salon, service=service, staff=staff, start=start, customer=customer,
        source=source, notes=notes, actor=actor,
        hold_until=timezone.now() + (hold_for or dt.timedelta(minutes=policy.hold_minutes)),
    )  # fmt: skip
    payment = Payment.objects.create(
        salon=salon, booking=booking, kind=kind, amount=due, currency=salon.currency,
        account=salon.stripe_account or "", provider=provider,
    )  # fmt: skip
    return Checkout(booking, deposit, payment)


def checkout_at_desk(
    *, salon: Salon, service: Service, start: dt.datetime, customer: Customer,
    staff: StaffMember | None, actor: Actor, waived: bool, reason: str = "",
    payment_option: str = "deposit", notes: str = "",
) -> Checkout:  # fmt: skip
    """Inside the caller's transaction: a booking taken by staff whose deposit is paid at
    the desk (cash, card terminal) or waived, confirmed at once. The payment row records
    who did it and, for a waiver, why; the booking's audit trail says it too."""
    policy, steps = policy_get(salon=salon)
    deposit = deposit_quote(
        salon=salon, service=service, day=salon_today(salon), customer=customer,
        policy=(policy, steps),
    ).amount  # fmt: skip
    if payment_option == "full" and not policy.allow_full_payment:
        raise ValidationError({"payment_option": [_("This salon takes a deposit only.")]})
    due = service.price if payment_option == "full" else deposit
    if waived and not reason.strip():
        raise ValidationError({"waiver_reason": [_("Say why the deposit is waived.")]})
    booking = booking_create(salon=salon, service=service, staff=staff, start=start,
                             customer=customer, source=Source.PHONE, notes=notes,
                             actor=actor)  # fmt: skip
    payment = None
    if due:
        payment = Payment.objects.create(
            salon=salon, booking=booking,
            kind=PaymentKind.FULL if payment_option == "full" else PaymentKind.DEPOSIT,
            amount=due, currency=salon.currency, provider=DESK,
            status=PaymentStatus.WAIVED if waived else PaymentStatus.SUCCEEDED,
            paid_at=None if waived else timezone.now(),
            recorded_by=actor if actor is not None and actor.is_authenticated else None,
            note=reason.strip()[:300],
        )  # fmt: skip
        booking_event(booking, "deposit_waived" if waived else "deposit_paid_at_desk",
                      actor=actor, by="staff", amount=due, reason=reason.strip()[:300])  # fmt: skip
    return Checkout(booking, deposit, payment)


def checkout_charge(checkout: Checkout) -> Checkout:
    """After the hold is committed: the PaymentIntent. When the provider fails, the hold
    is released and the payment marked failed, so nothing stays blocked or orphaned."""
    payment = checkout.payment
    if payment is None:
        return checkout
    booking = checkout.booking
    try:
        intent = payment_gateway().create_intent(
            amount=payment.amount, currency=payment.currency,
            metadata={"salon": booking.salon.slug, "booking": str(booking.pk),
                      "payment": str(payment.pk)},
            idempotency_key=payment.key("create"), account=payment.account or None,
        )  # fmt: skip
    except GatewayError as exc:
        log.warning("payment %s: the provider failed: %s", payment.pk, exc)
        with transaction.atomic():
            Payment.objects.with_scope(salon=payment.salon_id).filter(
                pk=payment.pk, status=PaymentStatus.PENDING
            ).update(status=PaymentStatus.FAILED)
            booking_release(booking=booking, reason="payment provider unavailable")
        raise PaymentProviderError() from exc
    Payment.objects.with_scope(salon=payment.salon_id).filter(pk=payment.pk).update(
        intent_id=intent.id, client_secret=intent.client_secret
    )
    payment.intent_id, payment.client_secret = intent.id, intent.client_secret
    return checkout


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
    Refund.objects.with_scope(salon=refund.salon_id).filter(pk=refund.pk).exclude(
        status__in=REFUND_FINAL
    ).update(status=status)


def stripe_event_apply(event: WebhookEvent) -> str:
    """Apply a verified Stripe event once: recorded with its effect in one transaction,
    under a unique event id, so a redelivery (or a concurrent one) changes nothing.
    Returns what happened: applied, duplicate or ignored."""
    intent_id = event.data.get("id") if event.data.get("object") == "payment_intent" else None
    payment = (
        Payment.objects.with_scopes_disabled().filter(intent_id=intent_id).first()
        if event.type in HANDLED_EVENTS and intent_id
        else None
    )
    refund = (
        Refund.objects.with_scopes_disabled().filter(refund_id=event.data.get("id")).first()
        if event.type in REFUND_EVENTS and event.data.get("object") == "refund"
        else None
    )
    status = "applied" if payment is not None or refund is not None else "ignored"
    try:
        with transaction.atomic():
            StripeEvent.objects.create(event_id=event.id, type=event.type, status=status)
            if payment is not None:
                with salon_scope(payment.salon_id):
                    _apply(event.type, payment)
            if refund is not None:
                _refund_settle(refund, str(event.data.get("status", "")))
    except IntegrityError as error:
        if "event_id" not in str(error) and "stripeevent" not in str(error).lower():
            raise
        return "duplicate"
    refund_if_unplaceable(payment)
    return status


def _locked(payment: Payment) -> Payment:
    return (
        Payment.objects.with_scope(salon=payment.salon_id)
        .select_for_update(no_key=True, of=("self",))
        .select_related("booking", "booking__salon")
        .get(pk=payment.pk)
    )


def _apply(event_type: str, payment: Payment) -> None:
    locked = _locked(payment)
    if event_type == "payment_intent.succeeded":
        if locked.status != PaymentStatus.SUCCEEDED:
            locked.status, locked.paid_at = PaymentStatus.SUCCEEDED, timezone.now()
            locked.save(update_fields=["status", "paid_at", "updated_at"])
        booking = locked.booking
        if booking.status == Status.PENDING_PAYMENT:
            booking_confirm(booking=booking)
        elif booking.status == Status.EXPIRED:
            booking_reinstate(booking=booking)
    elif event_type == "payment_intent.canceled" and locked.status == PaymentStatus.PENDING:
        locked.status = PaymentStatus.CANCELED
        locked.save(update_fields=["status", "updated_at"])
    # payment_intent.payment_failed: the client may try again until the hold lapses.


def refund_if_unplaceable(payment: Payment | None) -> Refund | None:
    """A payment that succeeded for a booking that could not be kept (its hold lapsed and
    the time was taken meanwhile) is refunded in full, once."""
    if payment is None:
        return None
    with salon_scope(payment.salon_id):
        fresh = Payment.objects.select_related("booking").get(pk=payment.pk)
        if fresh.status != PaymentStatus.SUCCEEDED or fresh.booking.status != Status.EXPIRED:
            return None
        refund, _created = Refund.objects.get_or_create(
            salon_id=fresh.salon_id, payment=fresh, reason="slot_lost",
            defaults={"amount": fresh.amount},
        )  # fmt: skip
        if refund.status == "succeeded":
            return refund
        return refund_send(refund)


# Cancellations and what becomes of the money ---------------------------------------------


def deposit_state(booking: Booking, payments: list[Payment] | None = None) -> dict[str, object]:
    """{amount, paid, status} of API.md: what was asked, what was paid, what became of it.

    `payments`: the booking's payments when the caller loaded them already (a day of
    bookings reads its payments in one query)."""
    if payments is None:
        payments = list(Payment.objects.with_scope(salon=booking.salon_id).filter(booking=booking))
    asked = sum(p.amount for p in payments if p.status != PaymentStatus.FAILED)
    paid = [p for p in payments if p.status == PaymentStatus.SUCCEEDED]
    if paid:
        outcomes = {p.outcome for p in paid}
        at_desk = all(p.provider == DESK for p in paid)
        status = next((o for o in ("refunded", "credited", "forfeited") if o in outcomes),
                      "paid_at_desk" if at_desk else "paid")  # fmt: skip
    elif any(p.status == PaymentStatus.PENDING for p in payments):
        status = "pending"
    elif any(p.status == PaymentStatus.WAIVED for p in payments):
        status = "waived"
    else:
        status = "none"
    return {"amount": asked, "paid": sum(p.amount for p in paid), "status": status}


def pending_payment(booking: Booking) -> Payment | None:
    """The payment the client still has to make for this booking, if any."""
    return (
        Payment.objects.with_scope(salon=booking.salon_id)
        .filter(booking=booking, status=PaymentStatus.PENDING)
        .first()
    )


def cancellation_deadline(booking: Booking) -> dt.datetime:
    policy, _steps = policy_get(salon=booking.salon)
    return booking.start - dt.timedelta(hours=policy.cancellation_window_hours)


def _in_window(booking: Booking, window_hours: int) -> bool:
    return timezone.now() <= booking.start - dt.timedelta(hours=window_hours)


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
    in_window = _in_window(booking, policy.cancellation_window_hours)
    paid = sum(
        p.amount
        for p in Payment.objects.with_scope(salon=booking.salon_id).filter(
            booking=booking, status=PaymentStatus.SUCCEEDED, outcome=""
        )
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
    return CancellationOutcome(paid, booking.currency, in_window, outcome,
                               policy.credit_valid_days, credit_back)  # fmt: skip


def booking_cancel_with_money(
    *, booking: Booking, resolution: str = "refund", by_salon: bool = False,
    actor: Actor = None, reason: str = "",
) -> Booking:  # fmt: skip
    """Cancel, and settle what was paid (DESIGN.md, "The deposit policy"):

    - by the salon: refunded in full;
    - by the client before the window closes: refunded, or kept as credit if they prefer;
    - later: kept as credit for a new appointment, or kept by the salon, as the policy says.
    Credit spent on the booking comes back as credit in the first cases, is kept in the
    last. An unpaid payment's intent is cancelled. Cancelling twice changes nothing more.
    """
    policy, _steps = policy_get(salon=booking.salon)
    in_window = _in_window(booking, policy.cancellation_window_hours)
    refunds: list[Refund] = []
    abandoned: list[Payment] = []
    with transaction.atomic():
        cancelled = booking_cancel(booking=booking, actor=actor, by_salon=by_salon,
                                   reason=reason)  # fmt: skip
        payments = Payment.objects.with_scope(salon=booking.salon_id).select_for_update(no_key=True)
        for payment in payments.filter(booking=booking):
            if payment.status == PaymentStatus.PENDING:
                payment.status = PaymentStatus.CANCELED
                payment.save(update_fields=["status", "updated_at"])
                abandoned.append(payment)
                continue
            if payment.status != PaymentStatus.SUCCEEDED or payment.outcome:
                continue
            if by_salon or (in_window and resolution != "credit"):
                payment.outcome = PaymentOutcome.REFUNDED
                refunds.append(Refund.objects.create(
                    salon_id=payment.salon_id, payment=payment, amount=payment.amount,
                    reason="salon_cancelled" if by_salon else "client_cancelled",
                ))  # fmt: skip
            elif in_window or policy.late_cancellation == LateCancellation.CREDIT:
                payment.outcome = PaymentOutcome.CREDITED
                credit_grant(customer=cancelled.customer, amount=payment.amount,
                             currency=payment.currency, valid_days=policy.credit_valid_days,
                             booking=cancelled, payment=payment)  # fmt: skip
            else:
                payment.outcome = PaymentOutcome.FORFEITED
            payment.save(update_fields=["outcome", "updated_at"])
        # Credit spent on the booking (a cancellation turned into this reschedule) comes
        # back as credit whenever a payment would have been refunded or credited.
        if by_salon or in_window or policy.late_cancellation == LateCancellation.CREDIT:
            credit_restore(booking=cancelled)
    for refund in refunds:
        refund_send(refund)
    for payment in abandoned:
        intent_cancel(payment)
    return cancelled


def refund_send(refund: Refund) -> Refund:
    """Ask the provider for a recorded refund (idempotent by its row): after commit.

    Money taken at the desk is handed back at the desk: its refund stays pending, for the
    staff to settle, and no provider is asked."""
    payment = refund.payment
    if payment.provider == DESK:
        return refund
    try:
        result = payment_gateway().refund(
            intent_id=payment.intent_id or "", amount=refund.amount,
            idempotency_key=f"{payment.key('refund')}:{refund.pk}",
            metadata={"salon": payment.booking.salon.slug, "booking": str(payment.booking_id),
                      "payment": str(payment.pk)},
            account=payment.account or None,
        )  # fmt: skip
    except GatewayError:
        log.warning("refund %s failed; it will be retried", refund.pk, exc_info=True)
        return refund
    Refund.objects.with_scope(salon=refund.salon_id).filter(pk=refund.pk).update(
        status=result.status, refund_id=result.id
    )
    refund.status, refund.refund_id = result.status, result.id
    return refund


def intent_cancel(payment: Payment) -> None:
    """Cancel an unpaid intent at the provider (idempotent by the payment)."""
    if not payment.intent_id:
        return
    try:
        payment_gateway().cancel_intent(intent_id=payment.intent_id,
                                        idempotency_key=payment.key("cancel"),
                                        account=payment.account or None)  # fmt: skip
    except GatewayError:
        log.warning("payment %s: the intent could not be cancelled", payment.pk, exc_info=True)


def payments_abandon_lapsed(*, salon_id: int) -> int:
    """Pending payments of bookings whose hold lapsed: cancelled here and at the provider
    (beat, every minute, after the hold sweep)."""
    with transaction.atomic():
        lapsed = list(
            Payment.objects.with_scope(salon=salon_id)
            .select_for_update(skip_locked=True, no_key=True)
            .filter(status=PaymentStatus.PENDING, booking__status=Status.EXPIRED)
        )
        for payment in lapsed:
            payment.status = PaymentStatus.CANCELED
            payment.save(update_fields=["status", "updated_at"])
    for payment in lapsed:
        intent_cancel(payment)
    return len(lapsed)


def booking_rebook_with_credit(
    *, booking: Booking, start: dt.datetime, staff: StaffMember | None = None
) -> Checkout:
    """A booking cancelled with credit comes back at a new time, paid by the credit:
    confirmed when the credit covers the deposit due, held for the difference otherwise
    (then charged like any booking once this commits)."""
    salon = booking.salon
    policy, steps = policy_get(salon=salon)
    if (
        not Payment.objects.with_scope(salon=salon.pk)
        .filter(booking=booking, outcome=PaymentOutcome.CREDITED)
        .exists()
    ):
        raise ValidationError({"non_field_errors": [
            _("This booking was cancelled; please book a new appointment.")]})  # fmt: skip
    due = deposit_quote(salon=salon, service=booking.service, day=salon_today(salon),
                        customer=booking.customer, policy=(policy, steps)).amount  # fmt: skip
    balance = credit_balance(customer=booking.customer)
    if balance <= 0:
        raise ValidationError({"non_field_errors": [_("The credit of this booking has lapsed.")]})
    rest = max(0, due - balance)
    if rest:
        try:
            provider = payment_gateway().name
        except GatewayError as exc:
            raise PaymentProviderError() from exc
    with transaction.atomic():
        hold_until = timezone.now() + dt.timedelta(minutes=policy.hold_minutes) if rest else None
        rebooked = booking_reschedule(booking=booking, start=start, staff=staff, rebook=True,
                                      hold_until=hold_until)  # fmt: skip
        credit_use(customer=rebooked.customer, amount=min(due, balance), booking=rebooked)
        payment = None
        if rest:
            payment = Payment.objects.create(
                salon=salon, booking=rebooked, kind=PaymentKind.DEPOSIT, amount=rest,
                currency=salon.currency, account=salon.stripe_account or "", provider=provider,
            )  # fmt: skip
    return Checkout(rebooked, due, payment)


# A payment the checkout committed but never opened at the provider: the process that
# should have called the provider died. Older than this, no request is still on it.
STRANDED_AFTER = dt.timedelta(minutes=2)


def _intent_replay(payment: Payment) -> str | None:
    """The create call, replayed under the payment's own idempotency key: the intent made
    the first time if there was one, or a new one. None when the provider still fails."""
    try:
        intent = payment_gateway().create_intent(
            amount=payment.amount, currency=payment.currency,
            metadata={"salon": payment.booking.salon.slug,
                      "booking": str(payment.booking_id), "payment": str(payment.pk)},
            idempotency_key=payment.key("create"), account=payment.account or None,
        )  # fmt: skip
    except GatewayError:
        return None
    Payment.objects.with_scope(salon=payment.salon_id).filter(
        pk=payment.pk, intent_id__isnull=True
    ).update(intent_id=intent.id, client_secret=intent.client_secret)
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
        Payment.objects.with_scope(salon=payment.salon_id).filter(
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
        Payment.objects.with_scope(salon=salon_id)
        .select_related("booking__salon")
        .filter(status=PaymentStatus.PENDING, intent_id__isnull=True,
                created_at__lt=now - STRANDED_AFTER, booking__status=Status.PENDING_PAYMENT)
        .exclude(provider=DESK)
    )  # fmt: skip
    for payment in stranded:
        settled += _stranded_settle(payment, now)
    doubtful = (
        Payment.objects.with_scope(salon=salon_id)
        .select_related("booking__salon")
        .filter(status=PaymentStatus.FAILED, intent_id__isnull=True)
    )
    for payment in doubtful:
        if _intent_replay(payment) is None:
            continue  # still down: next time
        intent_cancel(payment)
        settled += 1
    for refund in (
        Refund.objects.with_scope(salon=salon_id)
        .select_related("payment__booking__salon")
        .filter(status="pending", refund_id__isnull=True)
        .exclude(payment__provider=DESK)
    ):
        if refund_send(refund).refund_id:
            settled += 1
    return settled
