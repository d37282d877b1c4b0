"""CSRF: every form a session or a browser posts refuses a POST without the token (403) and
takes it with the token its page gives; the API, signed in by session, refuses unsafe
methods without the token. The one exception is the one-click unsubscribe (RFC 8058)."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.services import booking_manage_token
from customers.consent import withdraw_token
from customers.selectors import consent_current
from deposits.services import policy_set
from support.models import CustomerRequest
from tenants.scoping import salon_scope
from tenants.services import auth_token_get
from tests.conftest import local
from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db


def _token(client: Client, page: str) -> str:
    """The token the page's form carries (and its cookie, now in the client)."""
    answer = client.get(page)
    assert answer.status_code == 200, page
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.content.decode())
    assert found, f"no CSRF token in the form of {page}"
    return found.group(1)


def _refused_then_taken(client: Client, page: str, action: str, data: dict) -> object:
    assert client.post(action, data).status_code == 403, action
    answer = client.post(action, {**data, "csrfmiddlewaretoken": _token(client, page)})
    assert answer.status_code != 403, action
    return answer


def _deposit(salon) -> None:
    with salon_scope(salon):
        policy_set(
            salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[], payment_link_hours=24
        )


def test_the_desk_forms_need_the_token(settings, team_a, catalogue_a, monday):
    settings.PAYMENTS_TEST_MODE = True
    _deposit(team_a.salon)
    desk = "/desk/bella/"
    client = Client(enforce_csrf_checks=True)
    signed_in = _refused_then_taken(
        client, "/desk/login/", "/desk/login/", {"username": "bella-staff", "password": PASSWORD}
    )
    assert signed_in.status_code == 302

    start = local(team_a.salon, 1, 10)
    booked = _refused_then_taken(
        client,
        desk + "book/",
        desk + "book/",
        {
            "step": "book",
            "customer": "new",
            "name": "Paul Durand",
            "phone": "06 98 76 54 32",
            "service": str(catalogue_a.cut.pk),
            "staff": str(catalogue_a.alice.pk),
            "day": start.date().isoformat(),
            "start": start.isoformat(),
            "deposit_handling": "payment_link",
            "waiver_reason": "",
            "send_via": "",
            "notes": "",
        },
    )
    assert booked.status_code == 302
    with salon_scope(team_a.salon.pk):
        booking = Booking.objects.get()

    page = f"{desk}bookings/{booking.pk}/"
    cancelled = _refused_then_taken(client, page, page + "cancel/", {"reason": "Malade"})
    assert cancelled.status_code == 302

    logged = _refused_then_taken(
        client,
        desk + "requests/",
        desk + "requests/",
        {
            "channel": "phone",
            "category": "lost_item",
            "summary": "Parapluie oublié",
            "client": "",
            "status": "open",
            "resolution": "",
        },
    )
    assert logged.status_code == 302
    with salon_scope(team_a.salon.pk):
        row = CustomerRequest.objects.get()
    page = f"{desk}requests/{row.pk}/"
    edited = _refused_then_taken(
        client,
        page,
        page,
        {
            "status": "resolved",
            "category": "lost_item",
            "resolution": "Rendu",
        },
    )
    assert edited.status_code == 302

    out = _refused_then_taken(client, desk, "/desk/logout/", {})
    assert out.status_code == 302


def test_the_clients_forms_need_the_token(settings, catalogue_a, monday):
    settings.PAYMENTS_TEST_MODE = True
    _deposit(catalogue_a.salon)
    client = Client(enforce_csrf_checks=True)
    form = {
        "service": catalogue_a.cut.pk,
        "staff": catalogue_a.alice.pk,
        "start": local(catalogue_a.salon, 1, 10).isoformat(),
        "name": "Léa Martin",
        "phone": "06 12 34 56 78",
        "email": "",
        "notes": "",
        "payment_option": "deposit",
        "action": "book",
    }
    booked = _refused_then_taken(
        client, f"/bella/book/?service={catalogue_a.cut.pk}", "/bella/book/", form
    )
    assert booked.status_code == 302 and booked["Location"].endswith("/pay/")

    # The test-mode payment form (no money moves; the button stands in for the card form).
    paid = _refused_then_taken(client, booked["Location"], booked["Location"], {})
    assert paid.status_code == 302

    with salon_scope(catalogue_a.salon.pk):
        booking = Booking.objects.get()
    manage = f"/manage/{booking_manage_token(booking)}/"
    new_start = local(catalogue_a.salon, 3, 11).isoformat()
    moved = _refused_then_taken(
        client,
        manage + "reschedule/",
        manage + "reschedule/",
        {"start": new_start, "staff": catalogue_a.alice.pk},
    )
    assert moved.status_code == 302
    gone = _refused_then_taken(
        client, manage + "cancel/", manage + "cancel/", {"resolution": "refund"}
    )
    assert gone.status_code == 302


def test_the_pay_page_of_a_link_needs_the_token(settings, team_a, catalogue_a, monday):
    settings.PAYMENTS_TEST_MODE = True
    _deposit(team_a.salon)
    staff = Client()
    staff.force_login(team_a.staff)
    start = local(team_a.salon, 1, 10)
    staff.post(
        "/desk/bella/book/",
        {
            "step": "book",
            "customer": "new",
            "name": "Paul Durand",
            "phone": "06 98 76 54 32",
            "service": str(catalogue_a.cut.pk),
            "staff": str(catalogue_a.alice.pk),
            "day": start.date().isoformat(),
            "start": start.isoformat(),
            "deposit_handling": "payment_link",
            "waiver_reason": "",
            "send_via": "",
            "notes": "",
        },
    )
    with salon_scope(team_a.salon.pk):
        booking = Booking.objects.get()
    page = staff.get(f"/desk/bella/bookings/{booking.pk}/").content.decode()
    link = re.search(r'id="payment-link" href="http[^"]+?(/pay/[^"]+/)"', page)
    assert link
    client = Client(enforce_csrf_checks=True)
    paid = _refused_then_taken(client, link.group(1), link.group(1), {})
    assert paid.status_code == 302


def test_the_one_click_unsubscribe_takes_a_bare_post(team_a):
    """RFC 8058: a mail client's one-click unsubscribe is a POST with no cookie and no
    token; the signed token in the address is the credential, so the view is exempt."""
    lea = CustomerFactory(
        salon=team_a.salon, email="lea@example.org", consents={"marketing": True, "reminders": True}
    )
    url = f"/bella/unsubscribe/{withdraw_token(customer=lea)}/"
    answer = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    with salon_scope(team_a.salon):
        assert consent_current(customer=lea)["marketing"] is False


def test_the_admin_login_needs_the_token(superuser):
    client = Client(enforce_csrf_checks=True)
    form = {"username": "root", "password": PASSWORD, "next": "/admin/"}
    answer = _refused_then_taken(client, "/admin/login/", "/admin/login/", form)
    assert answer.status_code == 302


def test_the_api_signed_in_by_session_needs_the_token(team_a):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(team_a.owner)
    path = "/api/v1/salons/bella/backoffice/settings/"
    assert client.get(path).status_code == 200  # safe methods need none
    refused = client.patch(path, {"name": "Bella"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_allowed"
    assert "CSRF" in refused.json()["detail"]
    client.get("/desk/bella/requests/")  # a page with a form sets the token's cookie
    token = client.cookies["csrftoken"].value
    taken = client.patch(path, {"name": "Bella"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert taken.status_code == 200
    # A token, not a session, needs none: nothing a browser sends on its own.
    api = APIClient(enforce_csrf_checks=True)
    api.credentials(HTTP_AUTHORIZATION=f"Token {auth_token_get(user=team_a.owner)}")
    assert api.patch(path, {"name": "Bella"}, format="json").status_code == 200
