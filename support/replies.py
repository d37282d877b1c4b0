"""Clients' text replies: a reminder or a confirmation sent by SMS invites an answer, and
the answer is acted on once (API.md, "Text replies").

Whose reply it is, and about what: the most recent text sent to the number it comes
from (`Message` rows: the salon, the client, the booking). When a salon's own phone
number is the one the client texted (`To`), only that salon's texts are looked at. A
number nobody texted is the salon's whose number it texted; when no salon is found that
way, nothing is recorded (not even the number) and the answer is empty.

The words, in any case, accents ignored:

- `OUI`, `YES`, `C`: the client will come (`Booking.confirmed_by_client_at`);
- `ANNULER`, `CANCEL`: the answer says what would become of the money, by the rules the
  manage link applies at that moment, and asks to confirm (`ANNULER OUI`, or the word
  again, within `CANCEL_CONFIRM_MINUTES`). The confirming reply cancels through the
  service the manage link uses (a refund, inside the window); never one word alone;
- `REPORTER`, `MOVE`: the answer is the booking's manage link;
- `STOP`: the client's consents to messages (reminders, offers) are withdrawn;
- anything else, or a word that cannot apply (no booking, one that is over): a client
  request in the salon's requests log, channel `sms`, its first-response clock started.

Each provider's message id acts once: `TextReply` is written, under a unique (provider,
id), in the transaction of what the reply did; the same delivery again gets the answer
the first one got.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.db import IntegrityError, transaction
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_scopes import scopes_disabled

from bookings.models import Booking, Status
from bookings.selectors import booking_cancellable
from bookings.services import TransitionRefused, booking_confirm_by_client, manage_url
from core.languages import language_choose
from customers.models import (
    MESSAGE_PURPOSES,
    ConsentChannel,
    ConsentSource,
    Customer,
)
from customers.services import consent_record
from deposits.models import CreditEntry, CreditKind
from deposits.payments import (
    CancellationOutcome,
    Cancelled,
    booking_cancel_recorded,
    cancellation_outcome,
    cancellation_settle,
)
from messaging.models import Message, MessageStatus
from messaging.outbox import language_for, money_text
from messaging.sms import sms_text
from support.models import (
    CustomerRequest,
    ReplyAction,
    RequestCategory,
    RequestChannel,
    TextReply,
)
from support.services import request_prepare
from tenants.models import Salon
from tenants.scoping import salon_scope

TWILIO = "twilio"
CANCEL_CONFIRM_MINUTES = 30

CONFIRM_WORDS = frozenset({"OUI", "YES", "C"})
CANCEL_WORDS = frozenset({"ANNULER", "CANCEL"})
MOVE_WORDS = frozenset({"REPORTER", "MOVE"})
STOP_WORDS = frozenset({"STOP"})


@dataclass(frozen=True)
class TextIn:
    """A text received from the provider's webhook, as it came."""

    sid: str
    sender: str  # From
    to: str  # To
    body: str
    provider: str = TWILIO


@dataclass(frozen=True)
class _Origin:
    """Whose reply it is: the salon, the text it answers (if any), the client."""

    salon: Salon
    message: Message | None
    customer: Customer | None
    booking: Booking | None
    language: str


def words_of(body: str) -> list[str]:
    """The text's words in capitals, accents and punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", body)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.findall(r"[A-Z0-9]+", plain.upper())


def keyword_of(body: str) -> str:
    """ "confirm", "cancel", "move", "stop", or "" for anything else."""
    words = words_of(body)
    if len(words) == 1 and words[0] in CONFIRM_WORDS:
        return "confirm"
    if (
        words
        and words[0] in CANCEL_WORDS
        and (len(words) == 1 or (len(words) == 2 and words[1] in CONFIRM_WORDS))
    ):
        return "cancel"
    if len(words) == 1 and words[0] in MOVE_WORDS:
        return "move"
    if len(words) == 1 and words[0] in STOP_WORDS:
        return "stop"
    return ""


def _e164(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number.strip(), None)
    except phonenumbers.NumberParseException:
        return number.strip()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _answered_before(text: TextIn) -> TextReply | None:
    # The provider's id names no salon: looked up across salons, like a Stripe event.
    with scopes_disabled():
        return TextReply.objects.filter(provider=text.provider, sid=text.sid).first()


def _origin(text: TextIn) -> _Origin | None:
    """Whose reply it is (see the module's docstring), or None when no salon is found."""
    sender, to = _e164(text.sender), _e164(text.to)
    if not sender:
        return None
    by_number = list(Salon.objects.filter(phone=to)[:2]) if to else []
    salon = by_number[0] if len(by_number) == 1 else None
    with scopes_disabled():
        sent = Message.objects.filter(
            channel="sms", status=MessageStatus.SENT, recipient=sender
        ).select_related("salon", "customer", "booking")
        if salon is not None:
            sent = sent.filter(salon=salon)
        message = sent.order_by("-sent_at", "-id").first()
    if message is not None:
        salon = message.salon
    if salon is None:
        return None
    with salon_scope(salon):
        client = Customer.objects.filter(
            phone=sender, duplicate_of=None, erased_at__isnull=True
        ).first()
    customer = message.customer if message is not None else client
    if customer is not None and customer.erased:
        customer = client
    booking = message.booking if message is not None else None
    language = (
        language_for(customer, salon)
        if customer is not None
        else language_choose(salon.languages or [])
    )
    return _Origin(salon, message, customer, booking, language)


def text_reply_receive(*, text: TextIn, now: dt.datetime | None = None) -> str:
    """Act on a client's text once; returns the answer to send back ('' for none)."""
    seen = _answered_before(text)
    if seen is not None:
        return seen.answer
    origin = _origin(text)
    if origin is None:
        return ""
    now = now or timezone.now()
    try:
        with salon_scope(origin.salon), translation.override(origin.language):
            answer, cancelled = _act(origin, text, now)
    except IntegrityError as error:
        # The same delivery, at the same time, acted first.
        if "textreply_once" not in str(error):
            raise
        seen = _answered_before(text)
        return seen.answer if seen is not None else ""
    if cancelled is not None:
        with salon_scope(origin.salon):
            cancellation_settle(cancelled)
    return answer


def _act(origin: _Origin, text: TextIn, now: dt.datetime) -> tuple[str, Cancelled | None]:
    with transaction.atomic(durable=True):
        row = TextReply.objects.create(
            salon=origin.salon,
            provider=text.provider,
            sid=text.sid,
            booking=origin.booking,
            action=ReplyAction.REQUEST,
            received_at=now,
        )
        keyword = keyword_of(text.body)
        cancelled = None
        booking = _ahead(origin.booking, now)
        if keyword == "confirm" and booking is not None:
            _confirm(row, origin, booking, text, now)
        elif keyword == "cancel" and origin.booking is not None:
            cancelled = _cancel(row, origin, origin.booking, text, now)
        elif keyword == "move" and origin.booking is not None:
            row.action = ReplyAction.MOVE_LINK
            row.answer = _("%(salon)s: to choose another time: %(url)s") % {
                "salon": origin.salon.name,
                "url": manage_url(origin.booking),
            }
        elif keyword == "stop":
            _stop(row, origin)
        else:
            _request(row, origin, text)
        row.answer = sms_text(row.answer)
        row.save()
    return row.answer, cancelled


def _ahead(booking: Booking | None, now: dt.datetime) -> Booking | None:
    """The booking, when it is still to come (held or confirmed, not begun)."""
    if booking is None or not booking_cancellable(booking, now=now):
        return None
    return booking


def _when(salon: Salon, moment: dt.datetime) -> str:
    local = moment.astimezone(salon.tz)
    return _("%(day)s at %(time)s") % {
        "day": dateformat.format(local, "l j F"),
        "time": local.strftime("%H:%M"),
    }


def _confirm(
    row: TextReply, origin: _Origin, booking: Booking, text: TextIn, now: dt.datetime
) -> None:
    try:
        booking_confirm_by_client(booking=booking, now=now)
    except TransitionRefused:  # begun or cancelled since it was read
        _request(row, origin, text)
        return
    row.action = ReplyAction.CONFIRMED
    row.answer = _("%(salon)s: thank you, see you on %(when)s.") % {
        "salon": origin.salon.name,
        "when": _when(origin.salon, booking.start),
    }


def _credit_spent(booking: Booking) -> int:
    spent = CreditEntry.objects.filter(booking=booking, kind=CreditKind.USED)
    return sum(entry.amount for entry in spent)


def _money(booking: Booking, outcome: CancellationOutcome, language: str) -> str:
    """What a cancellation now does with the money, by the manage link's rules: a refund
    inside the window (the link offers credit instead, a text does not ask)."""
    amount = money_text(outcome.paid, outcome.currency, language)
    if outcome.outcome == "choice":
        return _("Your %(amount)s will be refunded.") % {"amount": amount}
    if outcome.outcome == "credit":
        return ngettext(
            "It is less than the notice the salon asks: your %(amount)s becomes credit for "
            "a new appointment, valid %(days)s day. It is not refunded.",
            "It is less than the notice the salon asks: your %(amount)s becomes credit for "
            "a new appointment, valid %(days)s days. It is not refunded.",
            outcome.credit_valid_days,
        ) % {"amount": amount, "days": outcome.credit_valid_days}
    if outcome.outcome == "forfeit":
        return _(
            "It is less than the notice the salon asks: the salon keeps your %(amount)s. "
            "It is not refunded."
        ) % {"amount": amount}
    spent = _credit_spent(booking)
    if spent and outcome.credit_back:
        return _("The %(amount)s of credit that paid it comes back to you.") % {
            "amount": money_text(spent, outcome.currency, language)
        }
    if spent:
        return _(
            "It is less than the notice the salon asks: the salon keeps the %(amount)s of "
            "credit that paid it."
        ) % {"amount": money_text(spent, outcome.currency, language)}
    return _("You paid nothing in advance: cancelling costs nothing.")


def _cancel(
    row: TextReply, origin: _Origin, booking: Booking, text: TextIn, now: dt.datetime
) -> Cancelled | None:
    """The first word asks (and says what becomes of the money); the same word again, or
    "ANNULER OUI", within the time allowed and with the money's fate unchanged, cancels."""
    salon = origin.salon
    when = _when(salon, booking.start)
    if not booking_cancellable(booking, now=now):
        if booking.status == Status.CANCELLED:
            row.action = ReplyAction.IGNORED
            row.answer = _("%(salon)s: your appointment on %(when)s is cancelled.") % {
                "salon": salon.name,
                "when": when,
            }
            return None
        _request(row, origin, text)
        return None
    outcome = cancellation_outcome(booking)
    asked = (
        TextReply.objects.filter(
            booking=booking,
            action=ReplyAction.CANCEL_ASKED,
            received_at__gte=now - dt.timedelta(minutes=CANCEL_CONFIRM_MINUTES),
            received_at__lte=now,
        )
        .exclude(pk=row.pk)
        .order_by("-received_at", "-id")
        .first()
    )
    money = _money(booking, outcome, origin.language)
    if asked is None or asked.outcome != outcome.outcome:
        row.action, row.outcome = ReplyAction.CANCEL_ASKED, outcome.outcome
        row.answer = _(
            "%(salon)s: cancel your appointment on %(when)s? %(money)s To confirm, reply "
            "%(words)s within %(minutes)s minutes."
        ) % {
            "salon": salon.name,
            "when": when,
            "money": money,
            "words": _("CANCEL YES"),
            "minutes": CANCEL_CONFIRM_MINUTES,
        }
        return None
    try:
        cancelled = booking_cancel_recorded(booking=booking, resolution="refund")
    except TransitionRefused:
        _request(row, origin, text)
        return None
    row.action, row.outcome = ReplyAction.CANCELLED, outcome.outcome
    row.answer = _("%(salon)s: your appointment on %(when)s is cancelled. %(money)s") % {
        "salon": salon.name,
        "when": when,
        "money": money,
    }
    return cancelled


def _stop(row: TextReply, origin: _Origin) -> None:
    customer = origin.customer
    if customer is not None:
        for purpose in MESSAGE_PURPOSES:
            consent_record(
                customer=customer,
                purpose=purpose,
                granted=False,
                channel=ConsentChannel.SMS,
                source=ConsentSource.ONLINE,
            )
    row.action = ReplyAction.STOPPED
    row.answer = _("%(salon)s: noted, you will receive no more reminders or offers from us.") % {
        "salon": origin.salon.name
    }


def _request(row: TextReply, origin: _Origin, text: TextIn) -> None:
    """The text, as a client request in the salon's log (a reply whose word could not
    apply is logged too: the salon answers it). An empty text is recorded, not logged."""
    summary = text.body.replace("\x00", "").strip()
    if not summary:
        row.action, row.answer = ReplyAction.IGNORED, ""
        return
    booking = origin.booking
    customer = origin.customer
    if booking is not None:
        customer = None if booking.customer.erased else booking.customer
    logged: CustomerRequest = request_prepare(
        salon=origin.salon,
        channel=RequestChannel.SMS,
        category=RequestCategory.BOOKING if booking is not None else RequestCategory.OTHER,
        summary=summary,
        customer=customer,
        booking=booking,
    )
    logged.save()
    row.action, row.request = ReplyAction.REQUEST, logged
    row.answer = _("%(salon)s: thank you, your message was passed on to the salon.") % {
        "salon": origin.salon.name
    }
