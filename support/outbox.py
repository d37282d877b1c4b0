"""The client's messages: planned from what happened, kept in an outbox, each sent once.

Nothing is sent from inside a request. What calls for a message is a row written in the
transaction of the change itself (a booking event, a credit entry, a reminder coming
due), and the planner turns those rows into `Message` rows under unique keys. The sender
claims a message with a conditional update, sends it, and records the outcome. The
planner runs after each commit that records booking events (through the broker) and
every minute from beat, so when the broker is down nothing is lost: the next sweep finds
the rows (DESIGN.md, invariant 6).
"""

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.template.loader import select_template
from django.utils import timezone, translation

from bookings.models import Booking, BookingEvent, Source, Status
from bookings.selectors import availability_for
from bookings.services import manage_url
from customers.models import Channel, Customer, Purpose
from customers.selectors import consent_current
from deposits.credit import credit_balance, credit_left
from deposits.models import CreditEntry, CreditKind
from deposits.payments import deposit_state
from tenants.models import Salon
from tenants.money import CURRENCY_EXPONENTS

from .models import Message, MessageKind, MessageStatus
from .sms import SmsError, sms_backend

log = logging.getLogger(__name__)

# Messages that answer nothing the client just did wait for the end of quiet hours.
DEFERRABLE = {MessageKind.REMINDER, MessageKind.RESCHEDULE_OFFER, MessageKind.CREDIT_WARNING,
              MessageKind.CREDIT_LAPSED}  # fmt: skip
# Reminders are sent with the client's consent (the `reminders` purpose of the ledger);
# the other messages are about the client's booking and money and always go out.
NEEDS_CONSENT = {MessageKind.REMINDER: Purpose.REMINDERS}
# A message claimed by a sender that died is sent again after this long.
SEND_LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
# How far back the planner looks for events that call for a message.
EVENT_WINDOW = dt.timedelta(days=3)
CREDIT_WARNING_DAYS = 7
SUGGESTED_SLOTS = 3
SUGGESTION_DAYS = 21


# Quiet hours ------------------------------------------------------------------------------


def _hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def quiet_until(salon: Salon, at: dt.datetime) -> dt.datetime | None:
    """The end of the salon's quiet hours when `at` falls inside them, else None. The
    hours are wall-clock times in the salon's time zone (DESIGN.md, invariant 4)."""
    if not salon.quiet_hours:
        return None
    start, end = _hhmm(salon.quiet_hours["start"]), _hhmm(salon.quiet_hours["end"])
    local = at.astimezone(salon.tz)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return None
    day = local.date() if now < end else local.date() + dt.timedelta(days=1)
    # Wall-clock time on that date; a time skipped by a DST change resolves forward.
    naive = dt.datetime.combine(day, end)
    return naive.replace(tzinfo=salon.tz).astimezone(dt.UTC)


# Rendering --------------------------------------------------------------------------------


def money_text(cents: int, currency: str, language: str) -> str:
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    if exponent == 0:
        return f"{cents} {currency}"
    units, rest = divmod(cents, 10**exponent)
    separator = "," if language == "fr" else "."
    return f"{units}{separator}{rest:0{exponent}d} {currency}"


def language_for(customer: Customer, salon: Salon) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    if customer.language in known:
        return customer.language
    return next((code for code in salon.languages if code in known), settings.LANGUAGE_CODE)


def render(kind: str, language: str, salon: Salon, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a message in the client's language, times in the salon's zone.
    A template's first line is the subject (e-mail only)."""
    template = select_template([f"messages/{language}/{kind}.txt", f"messages/en/{kind}.txt"])
    with translation.override(language), timezone.override(salon.tz):
        text = template.render({"salon": salon, **context})
    subject, _newline, body = text.strip().partition("\n")
    return subject.strip(), "\n".join(line.rstrip() for line in body.strip().splitlines())


def _address(customer: Customer, via: str | None) -> tuple[str, str] | None:
    """(channel, address): the channel asked for, else the client's preferred one, else
    the other one they gave us."""
    first = via or customer.preferred_channel
    order = [first] + [c for c in (Channel.SMS, Channel.EMAIL) if c != first]
    for channel in order:
        address = customer.phone if channel == Channel.SMS else customer.email
        if address:
            return channel, str(address)
    return None


def booking_context(booking: Booking, language: str) -> dict[str, Any]:
    return {
        "booking": booking, "service": booking.service.name, "staff": booking.staff.name,
        "start": booking.start, "manage_url": manage_url(booking),
        "price": money_text(booking.price, booking.currency, language),
    }  # fmt: skip


# Queueing ---------------------------------------------------------------------------------


def message_queue(
    *, salon: Salon, customer: Customer, kind: str, key: str, now: dt.datetime,
    booking: Booking | None = None, event: BookingEvent | None = None,
    via: str | None = None, context: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None, skip: str = "",
) -> Message:  # fmt: skip
    """Write the message `key` once (a second call returns the first one): rendered now,
    sent as soon as the sender runs, after quiet hours for what can wait. Written as
    `skipped`, with the reason, when it must not or cannot be sent."""
    existing = Message.objects.with_scope(salon=salon.pk).filter(key=key).first()
    if existing is not None:
        return existing
    fields: dict[str, Any] = {"customer": customer, "booking": booking, "event": event,
                              "kind": kind, "data": data or {}, "send_after": now}  # fmt: skip
    purpose = NEEDS_CONSENT.get(MessageKind(kind))
    address = _address(customer, via)
    if not skip and customer.erased:
        skip = "The client's data was erased."
    if not skip and purpose and not consent_current(customer=customer).get(purpose):
        skip = "The client has not agreed to receive these messages."
    if not skip and address is None:
        skip = "The client left neither a phone number nor an e-mail address."
    if skip or address is None:
        fields.update(status=MessageStatus.SKIPPED, status_detail=skip[:300])
    else:
        language = language_for(customer, salon)
        subject, body = render(kind, language, salon, {"customer": customer, **(context or {})})
        fields.update(channel=address[0], recipient=address[1], language=language,
                      subject=subject[:200], body=body)  # fmt: skip
        if kind in DEFERRABLE:
            fields["send_after"] = quiet_until(salon, now) or now
    message, _created = Message.objects.with_scope(salon=salon.pk).get_or_create(
        salon=salon, key=key, defaults=fields
    )
    return message


def _booking_message(
    booking: Booking, kind: str, key: str, now: dt.datetime,
    event: BookingEvent | None = None, data: dict[str, Any] | None = None, **context: Any,
) -> Message:  # fmt: skip
    customer = booking.customer
    language = language_for(customer, booking.salon)
    return message_queue(
        salon=booking.salon, customer=customer, kind=kind, key=key, now=now, booking=booking,
        event=event, context={**booking_context(booking, language), **context}, data=data,
    )  # fmt: skip


# Planning from booking events -------------------------------------------------------------

# The events that call for a message. A created booking is announced when it is confirmed
# at once; one held for a payment is announced by its confirmation (or its payment link).
_EVENT_FILTER = (
    Q(kind__in=["confirmed", "reinstated", "rebooked", "rescheduled", "cancelled"])
    | Q(kind="created", data__status=Status.CONFIRMED)
    | Q(kind="expired", booking__source=Source.PHONE)
)


def _plan_event(event: BookingEvent, now: dt.datetime) -> None:
    booking = event.booking
    key = f"{event.kind}:{event.pk}"
    kind = event.kind
    if kind in ("created", "confirmed", "reinstated", "rebooked"):
        if booking.status != Status.CONFIRMED or (kind == "rebooked"
                                                  and booking.confirmed_at is None):  # fmt: skip
            _nothing(event, now, "The booking awaits a payment; its confirmation will say it.")
            return
        _booking_message(booking, MessageKind.CONFIRMATION, key, now, event=event,
                         rebooked=kind == "rebooked")  # fmt: skip
    elif kind == "rescheduled":
        _booking_message(booking, MessageKind.RESCHEDULED, key, now, event=event)
    elif kind == "cancelled":
        _plan_cancellation(event, now)
    elif kind == "expired":
        sent_link = Message.objects.with_scope(salon=booking.salon_id).filter(
            booking=booking, kind=MessageKind.PAYMENT_LINK, status=MessageStatus.SENT
        )
        if not sent_link.exists():
            _nothing(event, now, "No payment link was sent for this booking.")
            return
        _booking_message(booking, MessageKind.LINK_EXPIRED, key, now, event=event)


def _nothing(event: BookingEvent, now: dt.datetime, why: str) -> None:
    """Record that the event called for no message, so it is not looked at again."""
    booking = event.booking
    message_queue(salon=booking.salon, customer=booking.customer, kind=MessageKind.NONE,
                  key=f"{event.kind}:{event.pk}:none", now=now, booking=booking, event=event,
                  skip=why)  # fmt: skip


def _plan_cancellation(event: BookingEvent, now: dt.datetime) -> None:
    booking = event.booking
    language = language_for(booking.customer, booking.salon)
    money = deposit_state(booking)
    paid = int(str(money["paid"]))
    balance = credit_balance(customer=booking.customer, now=now)
    _booking_message(
        booking, MessageKind.CANCELLATION, f"cancelled:{event.pk}", now, event=event,
        outcome=money["status"], paid=money_text(paid, booking.currency, language),
        by_salon=booking.cancelled_by_salon, reason=booking.cancellation_reason,
    )  # fmt: skip
    if money["status"] != "credited" or balance <= 0:
        return
    slots = suggested_slots(booking=booking, now=now)
    if not slots:
        return
    grant = (
        CreditEntry.objects.with_scope(salon=booking.salon_id)
        .filter(booking=booking, kind=CreditKind.GRANTED)
        .order_by("-expires_at")
        .first()
    )
    _booking_message(
        booking, MessageKind.RESCHEDULE_OFFER, f"offer:{event.pk}", now, event=event,
        credit=money_text(balance, booking.currency, language),
        credit_expires=grant.expires_at if grant else None,
        slots=[slot["start_at"] for slot in slots],
        data={"slots": [{"start": s["start"], "staff": s["staff"]} for s in slots],
              "credit": balance},
    )  # fmt: skip


def suggested_slots(*, booking: Booking, now: dt.datetime) -> list[dict[str, Any]]:
    """Free times for the same service near the cancelled one, on other days than it:
    the nearest first, at least two hours apart, with the same staff member preferred."""
    salon = booking.salon
    tz = salon.tz
    original = booking.start
    today = now.astimezone(tz).date()
    first = max(today, original.astimezone(tz).date() - dt.timedelta(days=SUGGESTION_DAYS))
    last = max(today, original.astimezone(tz).date()) + dt.timedelta(days=SUGGESTION_DAYS)
    slots = availability_for(salon=salon, service=booking.service, first=first, last=last,
                             now=now)  # fmt: skip
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
        chosen.append({"start_at": slot.start, "start": slot.start.astimezone(tz).isoformat(),
                       "staff": staff})  # fmt: skip
        if len(chosen) == SUGGESTED_SLOTS:
            break
    return sorted(chosen, key=lambda c: c["start_at"])


def messages_plan_events(*, salon: Salon, now: dt.datetime) -> int:
    """Messages for the recent booking events that have none yet."""
    planned = Message.objects.with_scope(salon=salon.pk).filter(event=OuterRef("pk"))
    events = list(
        BookingEvent.objects.with_scope(salon=salon.pk)
        .filter(_EVENT_FILTER, at__gte=now - EVENT_WINDOW)
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


# Reminders --------------------------------------------------------------------------------


def reminders_plan(*, salon: Salon, now: dt.datetime) -> int:
    """Each confirmed booking gets a reminder at each of the salon's offsets (hours before
    it starts), once. A reminder that comes due in quiet hours waits for their end, if that
    is still before the appointment; when several come due at once (a booking made late,
    a sweep that could not run), only the nearest one goes out."""
    offsets = sorted(set(salon.reminder_offsets_hours or []))
    if not offsets:
        return 0
    # When the client last heard of this time: its confirmation, or the notice of a move.
    moved = (
        BookingEvent.objects.with_scope(salon=salon.pk)
        .filter(booking=OuterRef("pk"), kind__in=["rescheduled", "rebooked"])
        .order_by("-at")
        .values("at")[:1]
    )
    bookings = list(
        Booking.objects.with_scope(salon=salon.pk)
        .filter(status=Status.CONFIRMED, start__gt=now,
                start__lte=now + dt.timedelta(hours=offsets[-1]))
        .annotate(moved_at=Subquery(moved))
        .select_related("salon", "customer", "service", "staff")
    )  # fmt: skip
    if not bookings:
        return 0
    known = set(
        Message.objects.with_scope(salon=salon.pk)
        .filter(booking__in=bookings, kind=MessageKind.REMINDER)
        .values_list("key", flat=True)
    )
    planned = 0
    for booking in bookings:
        with transaction.atomic():
            planned += _remind(booking, offsets, known, now)
    return planned


def _told_at(booking: Booking) -> dt.datetime:
    moments = [booking.confirmed_at or booking.created_at, getattr(booking, "moved_at", None)]
    return max(m for m in moments if m is not None)


def _remind(booking: Booking, offsets: list[int], known: set[str], now: dt.datetime) -> int:
    salon = booking.salon
    stamp = int(booking.start.timestamp())
    due = [h for h in offsets if booking.start - dt.timedelta(hours=h) <= now]
    planned = 0
    for hours in due:
        key = f"reminder:{booking.pk}:{hours}h:{stamp}"
        if key in known:
            continue
        skip = ""
        if hours != due[0]:
            skip = f"Superseded by the {due[0]} h reminder."
        elif _told_at(booking) > booking.start - dt.timedelta(hours=hours):
            skip = "Booked or moved after this reminder was due: the client was just told."
        else:
            wait = quiet_until(salon, now)
            if wait is not None and wait >= booking.start:
                skip = "Quiet hours last until the appointment."
        message = _reminder(booking, key, hours, now, skip)
        planned += 1
        if message.status == MessageStatus.PENDING:
            # A reminder waiting for quiet hours to end is replaced by a nearer one.
            Message.objects.with_scope(salon=salon.pk).filter(
                booking=booking, kind=MessageKind.REMINDER, status=MessageStatus.PENDING
            ).exclude(pk=message.pk).update(
                status=MessageStatus.SKIPPED, status_detail="Superseded by a nearer reminder."
            )
    return planned


def _reminder(booking: Booking, key: str, hours: int, now: dt.datetime, skip: str) -> Message:
    language = language_for(booking.customer, booking.salon)
    return message_queue(
        salon=booking.salon, customer=booking.customer, kind=MessageKind.REMINDER, key=key,
        now=now, booking=booking, skip=skip,
        context={**booking_context(booking, language), "hours": hours},
        data={"hours": hours, "start": booking.start.isoformat()},
    )  # fmt: skip


# Credit -----------------------------------------------------------------------------------


def credit_notices_plan(*, salon: Salon, now: dt.datetime) -> int:
    """A warning a week before unspent credit lapses, and a word when it has lapsed."""
    entries = CreditEntry.objects.with_scope(salon=salon.pk).select_related("customer")
    warn = list(
        entries.filter(
            kind=CreditKind.GRANTED,
            expires_at__gt=now,
            expires_at__lte=now + dt.timedelta(days=CREDIT_WARNING_DAYS),
        )
    )
    lapsed = list(
        entries.filter(
            kind=CreditKind.EXPIRED, created_at__gte=now - dt.timedelta(days=CREDIT_WARNING_DAYS)
        )
    )
    keys = {f"credit_warning:{e.pk}" for e in warn} | {f"credit_lapsed:{e.pk}" for e in lapsed}
    known = set(
        Message.objects.with_scope(salon=salon.pk).filter(key__in=keys).values_list("key",
                                                                                  flat=True)
    )  # fmt: skip
    planned = 0
    for entry, kind in [(e, MessageKind.CREDIT_WARNING) for e in warn] + [
        (e, MessageKind.CREDIT_LAPSED) for e in lapsed
    ]:
        prefix = "credit_warning" if kind == MessageKind.CREDIT_WARNING else "credit_lapsed"
        key = f"{prefix}:{entry.pk}"
        if key in known:
            continue
        left = credit_left(entry) if kind == MessageKind.CREDIT_WARNING else entry.amount
        if left <= 0:
            continue
        language = language_for(entry.customer, salon)
        expires = entry.expires_at if kind == MessageKind.CREDIT_WARNING else None
        message_queue(
            salon=salon, customer=entry.customer, kind=kind, key=key, now=now,
            context={"amount": money_text(left, entry.currency, language), "expires": expires},
            data={"credit_entry": entry.pk, "amount": left},
        )  # fmt: skip
        planned += 1
    return planned


# Sending ----------------------------------------------------------------------------------


def _no_longer_due(message: Message, now: dt.datetime) -> str:
    """Why a queued message should not go out any more, or ''."""
    booking = message.booking
    if message.customer.erased:
        return "The client's data was erased."
    # Consent is read again at sending: it may have been withdrawn while the message waited
    # for the end of quiet hours or for a retry.
    purpose = NEEDS_CONSENT.get(MessageKind(message.kind))
    if purpose and not consent_current(customer=message.customer).get(purpose):
        return "The client withdrew their consent to these messages."
    if message.kind == MessageKind.REMINDER and booking is not None:
        if booking.status != Status.CONFIRMED or booking.start.isoformat() != message.data.get(
            "start"
        ):
            return "The booking changed since the reminder was planned."
        if booking.start <= now:
            return "The appointment has begun."
    if (
        message.kind == MessageKind.PAYMENT_LINK
        and booking is not None
        and (
            booking.status != Status.PENDING_PAYMENT
            or (booking.hold_expires_at and booking.hold_expires_at <= now)
        )
    ):
        return "Nothing is left to pay through this link."
    if message.kind == MessageKind.RESCHEDULE_OFFER and booking is not None:
        if booking.status != Status.CANCELLED:
            return "The booking was rescheduled already."
        if credit_balance(customer=message.customer, now=now) <= 0:
            return "The credit was used or has lapsed."
    if message.kind == MessageKind.CREDIT_WARNING:
        grant = (
            CreditEntry.objects.with_scope(salon=message.salon_id)
            .filter(pk=message.data.get("credit_entry"))
            .first()
        )
        if grant is None or credit_left(grant) <= 0:
            return "The credit was used."
    return ""


def _transport(message: Message) -> str:
    salon = message.salon
    if message.channel == Channel.SMS:
        return sms_backend().send(to=message.recipient, body=message.body, sender=salon.name)
    message_id = make_msgid(domain="acompte")
    email = EmailMessage(
        subject=message.subject, body=message.body,
        from_email=formataddr((salon.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[message.recipient], reply_to=[salon.email] if salon.email else None,
        headers={"Message-ID": message_id},
    )  # fmt: skip
    email.send()
    return message_id


def message_deliver(*, message_id: int, salon_id: int, now: dt.datetime | None = None) -> str:
    """Send one queued message if it is due, once: claimed by a conditional update, so a
    second sender (or a task run twice) finds nothing to do. Returns what happened."""
    now = now or timezone.now()
    messages = Message.objects.with_scope(salon=salon_id)
    claimed = messages.filter(
        pk=message_id, status=MessageStatus.PENDING, send_after__lte=now
    ).update(status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "not_due"
    message = messages.select_related("salon", "customer", "booking__service",
                                      "booking__staff").get(pk=message_id)  # fmt: skip
    mine = messages.filter(pk=message_id, status=MessageStatus.SENDING)
    if message.kind in DEFERRABLE and (wait := quiet_until(message.salon, now)):
        mine.update(status=MessageStatus.PENDING, send_after=wait, attempts=F("attempts") - 1)
        return "deferred"
    why = _no_longer_due(message, now)
    if why:
        mine.update(status=MessageStatus.SKIPPED, status_detail=why[:300])
        return "skipped"
    try:
        ref = _transport(message)
    except (SmsError, smtplib.SMTPException, OSError) as exc:
        permanent = getattr(exc, "permanent", False) or message.attempts >= MAX_ATTEMPTS
        log.warning("message %s could not be sent (attempt %s): %s", message.pk,
                    message.attempts, exc)  # fmt: skip
        if permanent:
            mine.update(status=MessageStatus.FAILED, status_detail=str(exc)[:300])
            return "failed"
        retry_at = now + dt.timedelta(minutes=2**message.attempts)
        mine.update(status=MessageStatus.PENDING, send_after=retry_at,
                    status_detail=str(exc)[:300])  # fmt: skip
        return "retry"
    mine.update(status=MessageStatus.SENT, sent_at=now, provider_ref=ref[:120], status_detail="")
    return "sent"


def messages_send_due(*, salon: Salon, now: dt.datetime | None = None) -> int:
    """Send the salon's due messages. Returns how many went out."""
    now = now or timezone.now()
    messages = Message.objects.with_scope(salon=salon.pk)
    # A sender that died after claiming: its messages are sent again once the lease ends.
    messages.filter(status=MessageStatus.SENDING, claimed_at__lt=now - SEND_LEASE).update(
        status=MessageStatus.PENDING
    )
    due = list(
        messages.filter(status=MessageStatus.PENDING, send_after__lte=now)
        .order_by("send_after", "id")
        .values_list("pk", flat=True)[:500]
    )
    return sum(message_deliver(message_id=pk, salon_id=salon.pk, now=now) == "sent" for pk in due)


def messages_run(*, salon: Salon, now: dt.datetime | None = None) -> dict[str, int]:
    """Plan what is due for the salon, then send it: the work of each sweep."""
    now = now or timezone.now()
    events = messages_plan_events(salon=salon, now=now)
    reminders = reminders_plan(salon=salon, now=now)
    with transaction.atomic():
        credit = credit_notices_plan(salon=salon, now=now)
    sent = messages_send_due(salon=salon, now=now)
    return {"events": events, "reminders": reminders, "credit": credit, "sent": sent}


def messages_of(*, booking: Booking, kinds: Iterable[str] | None = None) -> list[Message]:
    messages = Message.objects.with_scope(salon=booking.salon_id).filter(booking=booking)
    if kinds is not None:
        messages = messages.filter(kind__in=list(kinds))
    return list(messages.order_by("created_at", "id"))
