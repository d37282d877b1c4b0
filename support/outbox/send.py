"""Sending: a message is claimed, sent once, and its outcome recorded."""

import datetime as dt
import logging
import smtplib
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F
from django.utils import timezone

from bookings.models import Status
from customers.models import Channel
from customers.selectors import consent_current
from deposits.credit import credit_balance, credit_left
from deposits.models import CreditEntry
from tenants.models import Salon

from ..models import Message, MessageKind, MessageStatus
from ..sms import SmsError, sms_backend
from .rules import DEFERRABLE, MAX_ATTEMPTS, NEEDS_CONSENT, SEND_LEASE, quiet_until

log = logging.getLogger(__name__)


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
            or booking.start <= now
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
