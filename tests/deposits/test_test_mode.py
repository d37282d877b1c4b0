"""Without Stripe keys: the labelled test-mode gateway in debug or when asked for; a
production without keys refuses to take payments rather than pretend."""

import pytest

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/salons/bella/bookings/"


@pytest.fixture
def deposit(api, team_a):
    api(team_a.owner).put(
        "/api/v1/salons/bella/backoffice/deposit-policy/",
        {"rule": {"kind": "fixed", "value": 1000}},
        format="json",
    )


def _book(api, catalogue):
    return api().post(
        BOOK,
        {
            "service": catalogue.cut.pk,
            "start": "2027-03-02T10:00:00+01:00",
            "customer": {"name": "Léa", "phone": "0612345678"},
        },
        format="json",
    )


def test_test_mode_takes_a_deposit_without_money(api, settings, catalogue_a, monday, deposit):
    settings.PAYMENTS_TEST_MODE = True
    booking = _book(api, catalogue_a).json()
    assert booking["status"] == "pending_payment"
    payment = booking["payment"]
    assert payment["provider"] == "test_mode"
    assert "test_mode" in payment["publishable_key"]
    assert payment["payment_intent"].startswith("pi_testmode_")
    url = f"/api/v1/test-mode/payments/{payment['payment_intent']}/pay/"
    assert api().post(url, {"client_secret": "wrong"}, format="json").status_code == 400
    paid = api().post(url, {"client_secret": payment["client_secret"]}, format="json")
    assert paid.json() == {"status": "succeeded"}
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["status"] == "confirmed"
    assert managed["deposit"] == {"amount": 1000, "paid": 1000, "status": "paid"}


def test_no_keys_in_production_refuses_payments(api, settings, catalogue_a, monday, deposit):
    settings.PAYMENTS_TEST_MODE = False
    assert settings.DEBUG is False
    response = _book(api, catalogue_a)
    assert response.status_code == 502
    assert response.json()["code"] == "payment_provider_error"
    assert (
        api().post("/api/v1/test-mode/payments/pi_testmode_x/pay/", {}, format="json").status_code
        == 404
    )


def test_nothing_due_needs_no_provider(api, settings, catalogue_a, monday):
    settings.PAYMENTS_TEST_MODE = False
    assert _book(api, catalogue_a).json()["status"] == "confirmed"


def test_a_lapsed_test_mode_payment_cannot_be_made(api, settings, catalogue_a, monday, deposit):
    import datetime as dt

    from bookings.services import holds_expire
    from deposits.payments import payments_abandon_lapsed
    from tenants.scoping import salon_scope

    settings.PAYMENTS_TEST_MODE = True
    payment = _book(api, catalogue_a).json()["payment"]
    monday.shift(dt.timedelta(minutes=20))
    with salon_scope(catalogue_a.salon):
        holds_expire(salon=catalogue_a.salon)
        payments_abandon_lapsed(salon_id=catalogue_a.salon.pk)
    url = f"/api/v1/test-mode/payments/{payment['payment_intent']}/pay/"
    refused = api().post(url, {"client_secret": payment["client_secret"]}, format="json")
    assert refused.status_code == 400
