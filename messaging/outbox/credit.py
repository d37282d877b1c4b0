"""Credit about to lapse, and lapsed."""

import datetime as dt

from deposits.credit import credit_left
from deposits.models import CreditEntry, CreditKind
from messaging.models import Message, MessageKind
from messaging.outbox.queue import message_queue
from messaging.outbox.render import language_for, money_text
from messaging.outbox.rules import CREDIT_WARNING_DAYS
from tenants.models import Salon


def credit_notices_plan(*, salon: Salon, now: dt.datetime) -> int:
    """A warning a week before unspent credit lapses, and a word when it has lapsed."""
    entries = CreditEntry.objects.select_related("customer")
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
    known = set(Message.objects.filter(key__in=keys).values_list("key", flat=True))
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
            salon=salon,
            customer=entry.customer,
            kind=kind,
            key=key,
            now=now,
            context={"amount": money_text(left, entry.currency, language), "expires": expires},
            data={"credit_entry": entry.pk, "amount": left},
        )
        planned += 1
    return planned
