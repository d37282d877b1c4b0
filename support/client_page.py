"""The client's page in the salon's admin: everything the salon holds about one client,
read in a fixed number of queries whatever her history's length.

It reads bookings, payments, credit and requests, each owned by an app above the
customers' (DESIGN.md, "Layout"), hence here, in the app at the top of the domain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from bookings.models import Booking, BookingItem
from customers.models import Customer
from customers.selectors import consent_current
from deposits.credit import credit_balance
from deposits.models import CreditEntry, CreditKind, Payment, PaymentStatus
from support.models import CustomerRequest


@dataclass(frozen=True)
class GrantLeft:
    """A credit grant with what is left of it now."""

    grant: CreditEntry
    left: int


@dataclass(frozen=True)
class ClientPage:
    customer: Customer
    now: dt.datetime
    upcoming: list[Booking]  # soonest first
    past: list[Booking]  # latest first
    payments: list[Payment]  # each with its booking and refunds, latest first
    credit_entries: list[CreditEntry]  # the ledger, oldest first
    credit_balance: int
    credit_open: list[GrantLeft]  # first to lapse first
    requests: list[CustomerRequest]  # latest first
    consents: dict[str, bool]


def client_page(*, customer: Customer, now: dt.datetime | None = None) -> ClientPage:
    """The client's history for her page: appointments (past and coming) with their
    services, staff and money, payments and refunds, the credit ledger with its balance
    and what lapses when, her requests and consents.

    Nine queries, whatever the number of bookings: bookings (with service and staff),
    their items, payments, refunds, credit entries, the balance (two), requests, consents.
    """
    now = now or timezone.now()
    bookings = list(
        Booking.objects.filter(customer=customer)
        .select_related("service", "staff")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=BookingItem.objects.select_related("service", "staff").order_by(
                    "position", "id"
                ),
            ),
            Prefetch(
                "payments",
                queryset=Payment.objects.order_by("created_at", "id").prefetch_related("refunds"),
            ),
        )
        .order_by("-start", "-id")
    )
    upcoming = [b for b in bookings if b.start >= now][::-1]
    past = [b for b in bookings if b.start < now]
    payments = [
        payment
        for booking in bookings
        for payment in booking.payments.all()
        if payment.status != PaymentStatus.CANCELED or payment.outcome
    ]
    for booking in bookings:
        for payment in booking.payments.all():
            payment.booking = booking  # the page links each payment to its booking
    payments.sort(key=lambda p: (p.paid_at or p.created_at, p.pk), reverse=True)

    entries = list(
        CreditEntry.objects.filter(customer=customer)
        .select_related("booking")
        .order_by("created_at", "id")
    )
    spent: dict[int, int] = {}
    for entry in entries:
        if entry.grant_id is not None:
            spent[entry.grant_id] = spent.get(entry.grant_id, 0) + entry.amount
    open_grants = sorted(
        (
            GrantLeft(entry, entry.amount - spent.get(entry.pk, 0))
            for entry in entries
            if entry.kind == CreditKind.GRANTED
            and entry.expires_at is not None
            and entry.expires_at > now
            and entry.amount > spent.get(entry.pk, 0)
        ),
        key=lambda g: (g.grant.expires_at, g.grant.pk),
    )
    requests = list(
        CustomerRequest.objects.filter(customer=customer)
        .select_related("booking")
        .order_by("-opened_at", "-id")
    )
    return ClientPage(
        customer=customer,
        now=now,
        upcoming=upcoming,
        past=past,
        payments=payments,
        credit_entries=entries,
        credit_balance=credit_balance(customer=customer, now=now),
        credit_open=open_grants,
        requests=requests,
        consents=consent_current(customer=customer),
    )
