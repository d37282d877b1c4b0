"""The client's card beside the phone booking: her visits, no-shows, late cancellations,
credit, notes, preferences, open requests and last visit, read in a bounded number of
queries whatever her history, as a fragment the panel fetches and on the page itself; her
requests one link away from the booking page and the card, and a new request opened from
the call with her and the phone already filled in."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.services import booking_cancel, booking_complete, booking_mark_no_show
from deposits.credit import credit_grant
from support.desk_card import client_card
from support.models import RequestStatus
from support.services import request_open
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

BOOK = "/desk/bella/book/"


def _jeanne(catalogue, visits=2):
    """Jeanne: `visits` visits, a no-show, a late cancellation and one in time, €12.50 of
    credit, notes, preferences, two open requests and a resolved one."""
    salon = catalogue.salon
    with salon_scope(salon):
        jeanne = CustomerFactory(
            salon=salon,
            name="Jeanne Martin",
            phone="+33612345678",
            email=None,
            notes="Prefers a quiet chair.",
            preferences={
                "services": [catalogue.colour.pk],
                "staff": [catalogue.bob.pk],
                "days": [1, 4],
                "times": ["morning"],
                "products": "Argan oil",
            },
        )
    weeks_ago = local(salon, 0, 9) - dt.timedelta(days=21)
    for n in range(visits):
        start = weeks_ago + dt.timedelta(days=n, hours=1)
        visit = book(catalogue, jeanne, start, now=start - dt.timedelta(days=2))
        with salon_scope(salon):
            booking_complete(booking=visit)
    missed_at = weeks_ago + dt.timedelta(days=10)
    missed = book(catalogue, jeanne, missed_at, now=missed_at - dt.timedelta(days=2))
    in_time_at = local(salon, 8, 10)
    late_at = local(salon, 1, 15)
    in_time = book(catalogue, jeanne, in_time_at)
    late = book(catalogue, jeanne, late_at)
    with salon_scope(salon):
        booking_mark_no_show(booking=missed)
        booking_cancel(booking=in_time)  # a week ahead: in time
        booking_cancel(booking=late)  # tomorrow, inside the 48 hours: late
        # By the salon, even late, is not the client's late cancellation.
        booking_cancel(booking=book(catalogue, jeanne, local(salon, 1, 16)), by_salon=True)
        credit_grant(customer=jeanne, amount=1250, currency="EUR", valid_days=90)
        for summary in ("Lost a scarf on Tuesday", "Asks for an invoice"):
            request_open(
                salon=salon, channel="phone", category="other", summary=summary, customer=jeanne
            )
        request_open(
            salon=salon,
            channel="phone",
            category="other",
            summary="Asked the opening hours",
            customer=jeanne,
            status=RequestStatus.RESOLVED,
            resolution="Told her.",
        )
    return jeanne


def _tag(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.S)
    assert found is not None, pattern
    return found.group(0)


@pytest.mark.django_db
def test_the_card_says_who_is_on_the_line(client, team_a, catalogue_a, monday):
    jeanne = _jeanne(catalogue_a)
    client.force_login(team_a.staff)
    answer = client.get(f"/desk/bella/customers/{jeanne.pk}/card/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Client card: Jeanne Martin" in page
    assert '<dd id="card-visits">2</dd>' in page
    assert '<dd id="card-no-shows">1</dd>' in page
    assert '<dd id="card-late">1</dd>' in page
    assert '<dd id="card-credit">€12.50</dd>' in page
    last = (local(team_a.salon, 0, 9) - dt.timedelta(days=20)).date()  # the second visit
    assert f'<dd id="card-last">{last:%b}. {last.day}, {last.year}</dd>' in page
    assert "Prefers a quiet chair." in page
    preferences = _tag(page, r'<dl id="card-preferences".*?</dl>')
    for shown in ("Couleur", "Bob", "Tuesday", "Friday", "Morning", "Argan oil"):
        assert shown in preferences, shown
    requests = _tag(page, r'<ul id="card-requests">.*?</ul>')
    assert "Lost a scarf on Tuesday" in requests and "Asks for an invoice" in requests
    assert "Asked the opening hours" not in requests  # resolved
    assert requests.count('href="/desk/bella/requests/') == 2
    assert f'href="/desk/bella/requests/?customer={jeanne.pk}"' in page
    french = client.get(
        f"/desk/bella/customers/{jeanne.pk}/card/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert '<dd id="card-credit">12,50\u00a0€</dd>' in french
    assert "Annulations tardives" in french


@pytest.mark.django_db
def test_the_card_reads_in_a_bounded_number_of_queries(team_a, catalogue_a, monday):
    few = _jeanne(catalogue_a, visits=1)
    with salon_scope(team_a.salon):
        many = CustomerFactory(salon=team_a.salon, name="Ana Roy", phone="+33622222222")
    for n in range(12):
        start = local(team_a.salon, 0, 11) - dt.timedelta(weeks=n + 1)  # Mondays
        visit = book(catalogue_a, many, start, now=start - dt.timedelta(1))
        with salon_scope(team_a.salon):
            booking_complete(booking=visit)
            request_open(
                salon=team_a.salon, channel="phone", category="other", summary=f"{n}", customer=many
            )
            many.preferences = {"services": [catalogue_a.cut.pk], "staff": [catalogue_a.alice.pk]}
            many.save(update_fields=["preferences"])

    def counted(customer) -> tuple[int, object]:
        with salon_scope(team_a.salon), CaptureQueriesContext(connection) as queries:
            card = client_card(salon=team_a.salon, pk=customer.pk)
        return len(queries), card

    counted(few)  # the deposit policy, read once then cached (policy_get's own business)
    n_few, card_few = counted(few)
    n_many, card_many = counted(many)
    assert card_few is not None and card_few.visits == 1
    assert card_many is not None and card_many.visits == 12
    assert card_many.more_requests and len(card_many.open_requests) == 5
    assert n_many == n_few
    assert n_many <= 6


@pytest.mark.django_db
def test_no_card_for_another_salons_client(client, team_a, team_b, catalogue_a):
    with salon_scope(team_b.salon):
        theirs = CustomerFactory(salon=team_b.salon, name="Ann Lee")
    client.force_login(team_a.staff)
    assert client.get(f"/desk/bella/customers/{theirs.pk}/card/").status_code == 404


@pytest.mark.django_db
def test_the_phone_page_shows_the_chosen_clients_card_without_the_script(
    client, team_a, catalogue_a, monday
):
    jeanne = _jeanne(catalogue_a)
    client.force_login(team_a.staff)
    empty = client.get(BOOK, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    region = _tag(empty, r'<section id="client-card"[^>]*>')
    assert 'aria-live="polite"' in region and 'aria-label="Client card"' in region
    assert "Choose a client to see their card." in empty
    # Alt+R is stated on the page, and with no client opens a blank phone request.
    assert "Shortcut: Alt+R" in empty
    link = _tag(empty, r'<a id="new-request"[^>]*>')
    assert 'aria-keyshortcuts="Alt+R"' in link
    assert 'href="/desk/bella/requests/?channel=phone"' in link
    # One match: chosen on the reload (the "Show free times" step) with her card.
    page = client.post(
        BOOK,
        {"step": "slots", "q": "0612345678", "customer": str(jeanne.pk), "day": "2027-03-02"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    card = _tag(page, r'<section id="client-card".*?</section>')
    assert "Client card: Jeanne Martin" in card and '<dd id="card-late">1</dd>' in card
    assert f'href="/desk/bella/requests/?channel=phone&amp;customer={jeanne.pk}"' in _tag(
        page, r'<a id="new-request"[^>]*>'
    )


@pytest.mark.django_db
def test_a_clients_requests_from_her_booking_and_a_new_one_from_the_call(
    client, team_a, catalogue_a, monday
):
    jeanne = _jeanne(catalogue_a)
    with salon_scope(team_a.salon):
        other = CustomerFactory(salon=team_a.salon, name="Ana Roy", phone="+33622222222")
        request_open(
            salon=team_a.salon, channel="email", category="other", summary="Ana's", customer=other
        )
    booking = book(catalogue_a, jeanne, local(team_a.salon, 2, 10))
    client.force_login(team_a.staff)
    detail = client.get(
        f"/desk/bella/bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    found = re.search(r'<a id="client-requests" href="([^"]*)"', detail)
    assert found is not None
    href = found.group(1)
    assert href == f"/desk/bella/requests/?customer={jeanne.pk}"
    page = client.get(href + "&channel=phone", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The requests of Jeanne Martin." in page
    assert "Lost a scarf on Tuesday" in page and "Asked the opening hours" in page
    assert "Ana's" not in page  # hers only
    # The new request's form is open, hers, by phone, the summary ready to type.
    assert "open" in _tag(page, r'<details[^>]*id="new-request"[^>]*>')
    assert f'value="{jeanne.pk}"' in _tag(page, r'<input[^>]*name="customer"[^>]*>')
    assert "selected" in _tag(page, r'<option value="phone"[^>]*>')
    assert "autofocus" in _tag(page, r'<textarea[^>]*name="summary"[^>]*>')
    logged = client.post(
        "/desk/bella/requests/",
        {
            "channel": "phone",
            "category": "other",
            "summary": "Wants to bring her daughter",
            "customer": str(jeanne.pk),
            "status": "open",
        },
    )
    assert logged.status_code == 302
    card = client.get(f"/desk/bella/customers/{jeanne.pk}/card/").content.decode()
    assert "Wants to bring her daughter" in card
