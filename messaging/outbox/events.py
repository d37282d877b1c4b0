"""Messages for what happened to bookings: confirmations, moves, cancellations (with a
reschedule offer when credit is left), expired payment links."""

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from bookings.models import Booking, BookingEvent, Source, Status
from bookings.selectors import availability_for
from core.dates import today_in
from deposits.agreements import owed_to_client
from deposits.credit import credit_balance
from deposits.guarantee import fee_pay_url
from deposits.models import CreditEntry, CreditKind, FeeCharge, FeeKind, FeeStatus, Payment
from deposits.payments import deposit_state
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox.queue import booking_message, message_queue
from messaging.outbox.render import language_for, money_text
from messaging.outbox.rules import EVENT_WINDOW, SUGGESTED_SLOTS, SUGGESTION_DAYS
from tenants.models import Salon

# The events that call for a message. A created booking is announced when it is confirmed
# at once; one held for a payment is announced by its confirmation (or its payment link).
_EVENT_FILTER = (
    Q(kind__in=["confirmed", "reinstated", "rebooked", "rescheduled", "cancelled", "paid_late"])
    | Q(kind="created", data__status=Status.CONFIRMED)
    | Q(kind="expired", booking__source=Source.PHONE)
    | Q(kind="payment_link_due")
    | Q(kind="fee_due")
)


def _plan_event(event: BookingEvent, now: dt.datetime) -> None:
    booking = event.booking
    key = f"{event.kind}:{event.pk}"
    kind = event.kind
    if kind in ("created", "confirmed", "reinstated", "rebooked"):
        if booking.status != Status.CONFIRMED or (
            kind == "rebooked" and booking.confirmed_at is None
        ):
            _nothing(event, now, "The booking awaits a payment; its confirmation will say it.")
            return
        booking_message(
            booking, MessageKind.CONFIRMATION, key, now, event=event, rebooked=kind == "rebooked"
        )
    elif kind == "rescheduled":
        booking_message(booking, MessageKind.RESCHEDULED, key, now, event=event)
    elif kind == "cancelled":
        _plan_cancellation(event, now)
    elif kind == "paid_late":
        _plan_paid_late(event, now)
    elif kind == "payment_link_due":
        _plan_payment_link(event, now)
    elif kind == "fee_due":
        _plan_fee(event, now)
    elif kind == "expired":
        sent_link = Message.objects.filter(
            booking=booking, kind=MessageKind.PAYMENT_LINK, status=MessageStatus.SENT
        )
        if not sent_link.exists():
            _nothing(event, now, "No payment link was sent for this booking.")
            return
        booking_message(booking, MessageKind.LINK_EXPIRED, key, now, event=event)


def _plan_payment_link(event: BookingEvent, now: dt.datetime) -> None:
    """The link of a phone booking whose request died before the provider was called,
    once the reconcile sweep opened the payment (deposits.payments_reconcile)."""
    from messaging.paylinks import payment_link_queue

    booking = event.booking
    payment = (
        Payment.objects.select_related(
            "booking__salon", "booking__customer", "booking__service", "booking__staff"
        )
        .filter(pk=event.data.get("payment"), booking=booking)
        .first()
    )
    if payment is None or booking.status != Status.PENDING_PAYMENT:
        _nothing(event, now, "Nothing is left to pay for this booking.")
        return
    message = payment_link_queue(payment=payment, via=None, actor=None, now=now, event=event)
    if message.event_id != event.pk:
        _nothing(event, now, "The link was sent when the booking was taken.")


def _nothing(event: BookingEvent, now: dt.datetime, why: str) -> None:
    """Record that the event called for no message, so it is not looked at again."""
    booking = event.booking
    message_queue(
        salon=booking.salon,
        customer=booking.customer,
        kind=MessageKind.NONE,
        key=f"{event.kind}:{event.pk}:none",
        now=now,
        booking=booking,
        event=event,
        skip=why,
    )


def _plan_cancellation(event: BookingEvent, now: dt.datetime) -> None:
    booking = event.booking
    language = language_for(booking.customer, booking.salon)
    money = deposit_state(booking)
    paid = int(str(money["paid"]))
    owed = owed_to_client(booking)
    balance = credit_balance(customer=booking.customer, now=now)
    booking_message(
        booking,
        MessageKind.CANCELLATION,
        f"cancelled:{event.pk}",
        now,
        event=event,
        outcome=money["status"],
        paid=money_text(paid, booking.currency, language),
        by_salon=booking.cancelled_by_salon,
        reason=booking.cancellation_reason,
        owed=money_text(owed, booking.currency, language) if owed else "",
        data={"outcome": money["status"], "owed": owed},
    )
    if money["status"] != "credited" or balance <= 0:
        return
    slots = suggested_slots(booking=booking, now=now)
    if not slots:
        return
    grant = (
        CreditEntry.objects.filter(booking=booking, kind=CreditKind.GRANTED)
        .order_by("-expires_at")
        .first()
    )
    booking_message(
        booking,
        MessageKind.RESCHEDULE_OFFER,
        f"offer:{event.pk}",
        now,
        event=event,
        credit=money_text(balance, booking.currency, language),
        credit_expires=grant.expires_at if grant else None,
        slots=[slot["start_at"] for slot in slots],
        data={
            "slots": [{"start": s["start"], "staff": s["staff"]} for s in slots],
            "credit": balance,
        },
    )


def _plan_fee(event: BookingEvent, now: dt.datetime) -> None:
    """A fee the card on file did not pay (it needs the client, or it refused): the client
    is sent the link to pay it herself, with the kind path's ways (another card, the
    desk)."""
    booking = event.booking
    fee = FeeCharge.objects.filter(pk=event.data.get("fee"), booking=booking).first()
    if fee is None or fee.status not in (FeeStatus.REQUIRES_ACTION, FeeStatus.FAILED):
        _nothing(event, now, "Nothing is left to pay for this fee.")
        return
    language = language_for(booking.customer, booking.salon)
    booking_message(
        booking,
        MessageKind.FEE_DUE,
        f"fee_due:{event.pk}",
        now,
        event=event,
        amount=money_text(fee.amount, fee.currency, language),
        url=fee_pay_url(fee),
        no_show=fee.kind == FeeKind.NO_SHOW,
        declined=fee.status == FeeStatus.FAILED,
        data={"fee": fee.pk},
    )


def _plan_paid_late(event: BookingEvent, now: dt.datetime) -> None:
    """A payment that went through after the booking was cancelled: the client is told
    what became of it (refunded, or kept as credit), as a cancellation's message says."""
    booking = event.booking
    if booking.status != Status.CANCELLED:
        _nothing(event, now, "The booking was booked again since; its own messages say it.")
        return
    said = Message.objects.filter(
        booking=booking,
        kind=MessageKind.CANCELLATION,
        event__kind="cancelled",
        data__outcome=event.data.get("outcome"),
    )
    if said.exists():
        _nothing(event, now, "The cancellation's own message said it already.")
        return
    language = language_for(booking.customer, booking.salon)
    booking_message(
        booking,
        MessageKind.CANCELLATION,
        f"paid_late:{event.pk}",
        now,
        event=event,
        outcome=event.data.get("outcome", ""),
        paid=money_text(int(event.data.get("amount", 0)), booking.currency, language),
        by_salon=booking.cancelled_by_salon,
        reason=booking.cancellation_reason,
    )


def suggested_slots(*, booking: Booking, now: dt.datetime) -> list[dict[str, Any]]:
    """Free times for the same service near the cancelled one, on other days than it:
    the nearest first, at least two hours apart, with the same staff member preferred."""
    salon = booking.salon
    tz = salon.tz
    original = booking.start
    today = today_in(tz, now)
    first = max(today, original.astimezone(tz).date() - dt.timedelta(days=SUGGESTION_DAYS))
    last = max(today, original.astimezone(tz).date()) + dt.timedelta(days=SUGGESTION_DAYS)
    slots = availability_for(salon=salon, service=booking.service, first=first, last=last, now=now)
    other_days = [
        s for s in slots if s.start.astimezone(tz).date() != original.astimezone(tz).date()
    ]
    # Nearest to the original moment of the day and date.
    other_days.sort(key=lambda s: (abs((s.start - original).total_seconds()), s.start))
    chosen: list[dict[str, Any]] = []
    for slot in other_days:
        if any(abs((slot.start - c["start_at"]).total_seconds()) < 7200 for c in chosen):
            continue
        staff = booking.staff_id if booking.staff_id in slot.staff_ids else slot.staff_ids[0]
        chosen.append(
            {"start_at": slot.start, "start": slot.start.astimezone(tz).isoformat(), "staff": staff}
        )
        if len(chosen) == SUGGESTED_SLOTS:
            break
    return sorted(chosen, key=lambda c: c["start_at"])


def messages_plan_events(*, salon: Salon, now: dt.datetime) -> int:
    """Messages for the recent booking events that have none yet."""
    planned = Message.objects.filter(event=OuterRef("pk"))
    events = list(
        BookingEvent.objects.filter(_EVENT_FILTER, at__gte=now - EVENT_WINDOW)
        .filter(~Exists(planned))
        .select_related("booking__salon", "booking__customer", "booking__service", "booking__staff")
        .order_by("id")[:500]
    )
    for event in events:
        # One short transaction per event: a sweep holds no lock for long, whatever the
        # backlog, and one event's failure does not undo the others.
        with transaction.atomic():
            _plan_event(event, now)
    return len(events)
