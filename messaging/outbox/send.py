"""Sending: a message is claimed, handed to the provider, and its outcome recorded.

What "once" means here, precisely:

- A message is handed to the provider at least once while it can be sent: a sender that
  dies after claiming it is relieved when its lease ends, and the message goes again.
- Once the provider has accepted a message (the SMTP server answered 250 to its data,
  the SMS provider returned a reference) and that acceptance is recorded, it is never
  handed over again. The acceptance is recorded at once, in its own commit, before the
  connection is closed or anything else is done that could fail.
- Between the provider's acceptance and that record (a worker killed in that instant)
  the message may go a second time. An e-mail then carries the same Message-ID, derived
  from the message's row (`message_id_header`), so the second copy is recognisably the
  same message, which mail systems deduplicate or thread together.
- A message that cannot be built or is refused for good (a header that cannot be
  written, an address the provider rejects) fails at once with its reason; a transient
  failure (the provider unreachable, a 4xx) is retried with backoff, at most
  `MAX_ATTEMPTS` times, counting the claims of senders that died.
"""

import datetime as dt
import logging
import smtplib
from collections.abc import Callable
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bookings.models import Status
from customers.models import Channel
from customers.selectors import consent_current
from deposits.credit import credit_balance, credit_left
from deposits.models import CreditEntry
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox.nudges import nudge_no_longer_due
from messaging.outbox.rules import DEFERRABLE, MAX_ATTEMPTS, NEEDS_CONSENT, SEND_LEASE, quiet_until
from messaging.sms import SmsError, sms_backend, sms_text
from tenants.models import Salon

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
    if message.kind == MessageKind.WAITLIST_OFFER:
        expires = message.data.get("expires_at")
        if expires and dt.datetime.fromisoformat(expires) <= now:
            return "The offer lapsed before it could be sent."
    if message.kind == MessageKind.REBOOK_NUDGE:
        return nudge_no_longer_due(message)
    if message.kind == MessageKind.CREDIT_WARNING:
        grant = CreditEntry.objects.filter(pk=message.data.get("credit_entry")).first()
        if grant is None or credit_left(grant) <= 0:
            return "The credit was used."
    return ""


def message_id_header(message: Message) -> str:
    """The e-mail's Message-ID, the same every time this row is sent: a re-send after a
    crash is the same message to whoever receives it."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "acompte"
    stamp = f"{message.created_at:%Y%m%d%H%M%S}" if message.created_at else "0"
    return f"<acompte.{message.salon_id}.{message.pk}.{stamp}@{domain}>"


def _transport(message: Message, accepted: Callable[[str], None]) -> None:
    """Hand the message to its provider; `accepted` is called with the provider's
    reference as soon as the provider took it, before the connection is closed."""
    salon = message.salon
    if message.channel == Channel.SMS:
        body = sms_text(message.body)
        accepted(sms_backend().send(to=message.recipient, body=body, sender=salon.name))
        return
    message_id = message_id_header(message)
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=formataddr((salon.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[message.recipient],
        reply_to=[salon.email] if salon.email else None,
        headers={"Message-ID": message_id},
    )
    email.message()  # built before any connection: a message that cannot be written fails here
    connection = get_connection()
    connection.open()
    try:
        if connection.send_messages([email]):
            accepted(message_id)
    finally:
        connection.close()


def _transient(exc: BaseException) -> bool:
    """Whether trying again later may succeed."""
    if isinstance(exc, SmsError):
        return not exc.permanent
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _text in exc.recipients.values())
    # The server unreachable or gone mid-conversation.
    return isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)


def message_deliver(*, message_id: int, salon_id: int, now: dt.datetime | None = None) -> str:
    """Send one queued message if it is due: claimed by a conditional update, so a second
    sender (or a task run twice) finds nothing to do. Returns what happened (see the
    module's docstring for what "once" guarantees)."""
    now = now or timezone.now()
    messages = Message.objects.all()
    claimed = messages.filter(
        pk=message_id, status=MessageStatus.PENDING, send_after__lte=now
    ).update(status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "not_due"
    message = messages.select_related(
        "salon", "customer", "customer__duplicate_of", "booking__service", "booking__staff"
    ).get(pk=message_id)
    mine = messages.filter(pk=message_id, status=MessageStatus.SENDING)
    if message.kind in DEFERRABLE and (wait := quiet_until(message.salon, now)):
        mine.update(status=MessageStatus.PENDING, send_after=wait, attempts=F("attempts") - 1)
        return "deferred"
    why = _no_longer_due(message, now)
    if why:
        mine.update(status=MessageStatus.SKIPPED, status_detail=why[:300])
        return "skipped"

    def accepted(ref: str) -> None:
        # Its own commit, at once: what the provider took is never handed over again.
        with transaction.atomic():
            mine.update(
                status=MessageStatus.SENT, sent_at=now, provider_ref=ref[:120], status_detail=""
            )

    try:
        _transport(message, accepted)
    except Exception as exc:  # whatever the data, the message leaves `sending`
        # The row keeps the whole reason (erased with the person); the log only its kind,
        # as a provider's answer may quote the address or the number.
        detail = f"{type(exc).__name__}: {exc}"[:300]
        code = getattr(exc, "smtp_code", None)
        kind = f"{type(exc).__name__} {code}" if code else type(exc).__name__
        if messages.filter(pk=message_id, status=MessageStatus.SENT).exists():
            # Accepted, then the goodbye failed: it was sent.
            log.warning("message %s: sent, then %s", message.pk, kind)
            return "sent"
        if not _transient(exc) or message.attempts >= MAX_ATTEMPTS:
            log.warning(
                "message %s failed for good (attempt %s): %s", message.pk, message.attempts, kind
            )
            mine.update(status=MessageStatus.FAILED, status_detail=detail)
            return "failed"
        log.warning(
            "message %s could not be sent (attempt %s): %s", message.pk, message.attempts, kind
        )
        retry_at = now + dt.timedelta(minutes=2**message.attempts)
        mine.update(status=MessageStatus.PENDING, send_after=retry_at, status_detail=detail)
        return "retry"
    if not messages.filter(pk=message_id, status=MessageStatus.SENT).exists():
        mine.update(status=MessageStatus.FAILED, status_detail="The provider took nothing.")
        return "failed"
    return "sent"


def messages_send_due(*, salon: Salon, now: dt.datetime | None = None) -> int:
    """Send the salon's due messages. Returns how many went out."""
    now = now or timezone.now()
    messages = Message.objects.all()
    # A sender that died after claiming: its messages are sent again once the lease ends,
    # within the same bound on attempts as any failure.
    stale = messages.filter(status=MessageStatus.SENDING, claimed_at__lt=now - SEND_LEASE)
    stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=MessageStatus.FAILED,
        status_detail=f"The sender stopped while sending it, {MAX_ATTEMPTS} times.",
    )
    stale.update(status=MessageStatus.PENDING)
    due = list(
        messages.filter(status=MessageStatus.PENDING, send_after__lte=now)
        .order_by("send_after", "id")
        .values_list("pk", flat=True)[:500]
    )
    return sum(message_deliver(message_id=pk, salon_id=salon.pk, now=now) == "sent" for pk in due)
