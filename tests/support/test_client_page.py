"""The client's page in the admin: her appointments past and coming with their money, her
payments and refunds, her credit and her requests, in the salon's time and currency, read
in a number of queries that does not grow with her history; another salon's stays out.

Before this page, a client's page had no appointment history, payments, credit or
requests: each test below fails on it."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deposits.history import (
    CANCELLED_IN_TIME,
    CANCELLED_LATE,
    HONOURED,
    MISSED,
    PastVisit,
    past_visits_import,
)
from deposits.models import Payment, PaymentOutcome, Refund
from support.client_page import client_page
from support.services import request_open
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def _url(customer):
    return f"/admin/customers/customer/{customer.pk}/change/"


def _history(catalogue, customer, *, visits=4):
    """`visits` past appointments, a quarter each honoured, missed, cancelled late (its
    deposit turned into credit) and cancelled in time (its deposit refunded)."""
    salon = catalogue.salon
    endings = [HONOURED, MISSED, CANCELLED_LATE, CANCELLED_IN_TIME]
    rows = []
    for n in range(visits):
        ended = endings[n % 4]
        start = local(salon, -7 * (n + 1), 10, 30)
        rows.append(
            PastVisit(
                customer=customer,
                service=catalogue.cut,
                staff=catalogue.alice,
                start=start,
                booked_at=start - dt.timedelta(days=3),
                source="web",
                ended=ended,
                cancelled_at=start - dt.timedelta(hours=2) if ended == CANCELLED_LATE else None,
                paid=1500 + 100 * n,
            )
        )
    with salon_scope(salon):
        bookings = past_visits_import(salon=salon, visits=rows)
        for payment in Payment.objects.filter(
            booking__in=bookings, outcome=PaymentOutcome.REFUNDED
        ):
            Refund.objects.create(
                salon=salon,
                payment=payment,
                amount=payment.amount,
                reason="cancelled_in_time",
                status="succeeded",
            )
        request_open(
            salon=salon,
            channel="phone",
            category="lost_item",
            summary="Écharpe oubliée",
            customer=customer,
            item_description="Écharpe bleue",
        )
    return bookings


@pytest.fixture
def lea(team_a, catalogue_a, monday):
    return CustomerFactory(salon=team_a.salon, name="Léa Martin", phone="0612345678")


@pytest.fixture
def sam(team_b, catalogue_b, monday):
    """Another salon's client with a history of her own."""
    sam = CustomerFactory(salon=team_b.salon, name="Sam Rival", phone="+14165550199")
    _history(catalogue_b, sam, visits=4)
    return sam


def _page(client, owner, customer, language="fr"):
    client.force_login(owner)
    client.cookies["django_language"] = language
    response = client.get(_url(customer), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def _section(html, name):
    match = re.search(rf'<section[^>]*id="client-{name}".*?</section>', html, re.S)
    assert match, name
    return match.group(0)


def test_the_page_shows_appointments_with_their_money_in_salon_time_and_euros(
    client, team_a, catalogue_a, lea, sam
):
    past = _history(catalogue_a, lea, visits=4)
    coming = book(catalogue_a, lea, local(team_a.salon, 2, 9), source="phone")
    html = _page(client, team_a.owner, lea)

    upcoming = _section(html, "upcoming")
    # 09:00 in Paris (08:00 UTC), linked to the booking's admin page.
    assert f'href="/admin/bookings/booking/{coming.pk}/change/"' in upcoming
    assert "09:00" in upcoming and "08:00" not in upcoming
    assert ("Coupe" in upcoming and "Alice" in upcoming) or "Bob" in upcoming
    assert f"60,00{NBSP}€" in upcoming
    assert "Confirmé" in upcoming

    history = _section(html, "past")
    for booking in past:
        assert f'href="/admin/bookings/booking/{booking.pk}/change/"' in history
    assert history.count("10:30") == 4  # salon time, not 09:30 UTC
    assert "09:30" not in history
    # What became of each deposit: paid, kept after the no-show, credit, refunded.
    assert f"15,00{NBSP}€ · Payé" in history
    assert f"16,00{NBSP}€ · Conservé par le salon" in history
    assert f"17,00{NBSP}€ · Conservé en avoir" in history
    assert f"18,00{NBSP}€ · Remboursé" in history
    assert "Absence" in history


def test_the_page_shows_payments_refunds_credit_and_requests(client, team_a, catalogue_a, lea, sam):
    _history(catalogue_a, lea, visits=4)
    html = _page(client, team_a.owner, lea)

    payments = _section(html, "payments")
    assert payments.count('class="payment"') == 4
    assert payments.count('class="refund"') == 1
    refund = re.search(r'<tr class="refund">.*?</tr>', payments, re.S).group(0)
    assert f"\u221218,00{NBSP}€" in refund and "Remboursé" in refund

    credit = _section(html, "credit")
    # The late cancellation's €17 is owed for 90 days from its cancellation.
    assert f"17,00{NBSP}€" in credit
    balance = re.search(r'id="client-credit-balance">(.*?)</p>', credit, re.S).group(1)
    assert f"17,00{NBSP}€" in balance
    assert "2027" in _section(html, "credit")  # its expiry

    requests = _section(html, "requests")
    assert "Écharpe oubliée" in requests
    assert re.search(r'href="/admin/support/customerrequest/\d+/change/"', requests)

    consents = _section(html, "consents")
    assert "Rappels" in consents or "rappel" in consents.lower()

    # The other salon's client and money are nowhere on the page.
    assert "Sam Rival" not in html
    assert "CA$" not in html and "$" not in payments


def test_the_page_in_english_writes_money_and_times_the_english_way(
    client, team_a, catalogue_a, lea
):
    _history(catalogue_a, lea, visits=4)
    html = _page(client, team_a.owner, lea, language="en")
    history = _section(html, "past")
    assert "€15.00 · Paid" in history
    assert "€16.00 · Kept by the salon" in history
    assert "10:30" in history


def test_the_pages_queries_do_not_grow_with_the_clients_history(
    client, team_a, catalogue_a, lea, sam
):
    few = CustomerFactory(salon=team_a.salon, name="Nina Roux")
    _history(catalogue_a, few, visits=2)
    _history(catalogue_a, lea, visits=24)
    client.force_login(team_a.owner)
    client.get(_url(few))  # what the first request of a session caches (the user's salons)
    counts = []
    for customer in (few, lea):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(customer)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 30, counts


def test_another_salons_client_page_is_a_404(client, team_a, lea, sam):
    client.force_login(team_a.owner)
    assert client.get(_url(sam)).status_code == 404


def test_the_client_page_says_when_she_has_no_history(client, team_a, lea):
    html = _page(client, team_a.owner, lea)
    assert "Aucun" in _section(html, "past") or "Aucune" in _section(html, "past")
    assert f"0,00{NBSP}€" in _section(html, "credit")


def test_the_selector_reads_a_long_history_in_nine_queries(
    team_a, catalogue_a, lea, django_assert_num_queries
):
    _history(catalogue_a, lea, visits=24)
    with salon_scope(team_a.salon), django_assert_num_queries(9):
        page = client_page(customer=lea)
        assert len(page.past) == 24 and len(page.payments) == 24
        assert [len(b.items.all()) for b in page.past] == [1] * 24
        assert page.credit_balance == sum(g.left for g in page.credit_open) > 0
        assert len(page.requests) == 1
