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

from django.db import transaction
from django.utils import timezone

from messaging.outbox.credit import credit_notices_plan
from messaging.outbox.events import messages_plan_events, suggested_slots
from messaging.outbox.nudges import nudges_due, nudges_plan
from messaging.outbox.queue import message_queue, message_withdraw
from messaging.outbox.reminders import reminders_plan
from messaging.outbox.render import booking_context, language_for, money_text
from messaging.outbox.rules import quiet_until
from messaging.outbox.send import message_deliver, messages_send_due
from tenants.models import Salon

__all__ = [
    "booking_context",
    "credit_notices_plan",
    "language_for",
    "message_deliver",
    "message_queue",
    "message_withdraw",
    "messages_plan_events",
    "messages_run",
    "messages_send_due",
    "money_text",
    "nudges_due",
    "nudges_plan",
    "nudges_run",
    "quiet_until",
    "reminders_plan",
    "suggested_slots",
]


def messages_run(*, salon: Salon, now: dt.datetime | None = None) -> dict[str, int]:
    """Plan what is due for the salon, then send it: the work of each sweep."""
    now = now or timezone.now()
    events = messages_plan_events(salon=salon, now=now)
    reminders = reminders_plan(salon=salon, now=now)
    with transaction.atomic():
        credit = credit_notices_plan(salon=salon, now=now)
    sent = messages_send_due(salon=salon, now=now)
    return {"events": events, "reminders": reminders, "credit": credit, "sent": sent}


def nudges_run(*, salon: Salon, now: dt.datetime | None = None) -> dict[str, int]:
    """The invitations to come back due today (messaging/outbox/nudges.py), then what is
    due to send: the work of the hourly sweep."""
    now = now or timezone.now()
    planned = nudges_plan(salon=salon, now=now)
    return {"nudges": planned, "sent": messages_send_due(salon=salon, now=now)}
