"""A client's links (manage, pay) live some time after the appointment, and are revoked
when they must be: the pay link on cancellation, every link on erasure."""

import datetime as dt
import re

import pytest

from bookings.services import booking_cancel, booking_manage_token
from customers.services import customer_erase
from deposits.credit import credit_grant
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PHONE = "/api/v1/salons/bella/backoffice/phone-bookings/"


def _manage(api, token):
    return api().get(f"/api/v1/manage/{token}/")


def test_a_manage_link_stops_working_some_time_after_the_appointment(
    api, client, catalogue_a, monday
):
    lea = CustomerFactory(salon=catalogue_a.salon)
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        token = booking_manage_token(booking)
    assert _manage(api, token).status_code == 200
    monday.move_to(booking.end + dt.timedelta(days=13))
    assert _manage(api, token).status_code == 200
    monday.move_to(booking.end + dt.timedelta(days=14, minutes=1))
    answer = _manage(api, token)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    page = client.get(f"/manage/{token}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 404
    assert "Ce lien n\u2019est plus valide" in page.content.decode()
    page = client.get(f"/manage/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "This link is no longer valid" in page.content.decode()


def test_a_booking_cancelled_with_credit_keeps_its_link_while_the_credit_lasts(
    api, catalogue_a, monday
):
    lea = CustomerFactory(salon=catalogue_a.salon)
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        token = booking_manage_token(booking)
        credit_grant(customer=lea, amount=1200, currency="EUR", valid_days=90, booking=booking)
        booking_cancel(booking=booking)
    # The same link, after cancelling: the client reschedules with the credit through it.
    assert _manage(api, token).json()["status"] == "cancelled"
    monday.move_to(booking.end + dt.timedelta(days=60))
    assert _manage(api, token).status_code == 200
    monday.move_to(dt.datetime(2027, 3, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=90, minutes=1))
    assert _manage(api, token).status_code == 404


@pytest.fixture
def link_booking(api, settings, team_a, catalogue_a, monday):
    settings.PAYMENTS_TEST_MODE = True
    settings.SMS_BACKEND = "locmem"
    body = {"rule": {"kind": "fixed", "value": 1500}, "payment_link_hours": 24}
    api(team_a.owner).put("/api/v1/salons/bella/backoffice/deposit-policy/", body, format="json")
    answer = api(team_a.staff).post(
        PHONE,
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-03T10:00:00+01:00",
            "staff": catalogue_a.alice.pk,
            "customer": {"name": "Marcel Roux", "phone": "06 43 55 66 77"},
            "deposit_handling": "payment_link",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    body["pay_path"] = re.sub(r"^https?://[^/]+", "", body["payment_link"]["url"])
    return body


def test_cancelling_revokes_the_pay_link_and_keeps_the_manage_link(
    api, client, team_a, link_booking
):
    assert client.get(link_booking["pay_path"]).status_code == 200
    cancel = f"/api/v1/salons/bella/backoffice/bookings/{link_booking['id']}/cancel/"
    assert api(team_a.staff).post(cancel, {"reason": "Fermeture"}, format="json").status_code == 200
    page = client.get(link_booking["pay_path"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 404
    assert "This link is no longer valid" in page.content.decode()
    assert client.post(link_booking["pay_path"]).status_code == 404
    assert _manage(api, link_booking["manage_token"]).json()["status"] == "cancelled"


def test_erasure_revokes_every_link_of_the_client(api, client, team_a, link_booking):
    with salon_scope(team_a.salon):
        from bookings.models import Booking

        customer = Booking.objects.get(pk=link_booking["id"]).customer
        customer_erase(customer=customer)
    assert client.get(link_booking["pay_path"]).status_code == 404
    assert _manage(api, link_booking["manage_token"]).status_code == 404
    assert client.get(f"/manage/{link_booking['manage_token']}/").status_code == 404
