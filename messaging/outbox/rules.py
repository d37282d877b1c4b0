"""When a message may go out: the kinds that wait, the consent they need, the quiet hours."""

import datetime as dt

from customers.models import Purpose
from messaging.models import MessageKind
from tenants.models import Salon

# Messages that answer nothing the client just did wait for the end of quiet hours.
DEFERRABLE = {
    MessageKind.REMINDER,
    MessageKind.RESCHEDULE_OFFER,
    MessageKind.CREDIT_WARNING,
    MessageKind.CREDIT_LAPSED,
    # A freed time offered: its clock starts when it is sent (support.refill).
    MessageKind.WAITLIST_OFFER,
    MessageKind.WAITLIST_TAKEN,
    MessageKind.REBOOK_NUDGE,
}
# Reminders are sent with the client's consent (the `reminders` purpose of the ledger),
# the invitation to come back with her consent to offers (`marketing`); the other
# messages are about the client's booking and money and always go out.
NEEDS_CONSENT = {
    MessageKind.REMINDER: Purpose.REMINDERS,
    MessageKind.REBOOK_NUDGE: Purpose.MARKETING,
}
# Texts that invite a reply (OUI, ANNULER, REPORTER: support.replies reads it), when the
# inbound webhook can be verified (TWILIO_AUTH_TOKEN set).
REPLY_INVITED = {MessageKind.REMINDER, MessageKind.CONFIRMATION}
# A message claimed by a sender that died is sent again after this long.
SEND_LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
# How far back the planner looks for events that call for a message.
EVENT_WINDOW = dt.timedelta(days=3)
CREDIT_WARNING_DAYS = 7
SUGGESTED_SLOTS = 3
SUGGESTION_DAYS = 21
# The invitation to come back (a service's rebooking interval): sent from the day the
# interval has run, and no later than this many days after: past that, a client who did
# not come back has moved on, and a message a season late reads as spam.
NUDGE_LATE_DAYS = 60
# A booking of the client made within this many days of the invitation counts as one it
# brought back (the owner's figures), whatever door she booked through.
NUDGE_REBOOKED_DAYS = 30


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
