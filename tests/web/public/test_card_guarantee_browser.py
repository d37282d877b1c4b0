"""The card guarantee in a browser, in French: the client saves her card (with its 3-D
Secure step) on the pay page, then pays a no-show fee from the link she was sent. Stripe.js
is the stand-in's (tests/browser/stripe_js_standin.js), speaking to the Stripe stand-in."""

import datetime as dt
import re

import pytest

from bookings.models import Booking, Status
from deposits.models import FeeCharge, FeeStatus, SavedCard, SavedCardStatus
from tenants.scoping import salon_scope
from tests.conftest import policy_put
from tests.web.public.test_client import _ahead, _no_axe_violations, _watch

ACCOUNT = "acct_bella"


@pytest.mark.django_db(transaction=True)
def test_a_client_saves_her_card_then_pays_a_fee_from_its_link(
    browser_page, settings, api, team_a, catalogue_a, stripe_api
):
    from playwright.sync_api import expect

    settings.STRIPE_JS_URL = f"{stripe_api.url}/_standin/v3/"
    salon = team_a.salon
    salon.stripe_account = ACCOUNT
    salon.save(update_fields=["stripe_account"])
    policy_put(
        api,
        team_a,
        rule={"kind": "none"},
        card_guarantee="always",
        no_show_fee={"kind": "fixed", "value": 2000},
    )
    day = _ahead(salon, 2)
    start = dt.datetime.combine(day, dt.time(10), tzinfo=salon.tz)
    booked = (
        api()
        .post(
            "/api/v1/salons/bella/bookings/",
            {
                "service": catalogue_a.cut.pk,
                "start": start.isoformat(),
                "staff": catalogue_a.alice.pk,
                "customer": {"name": "Léa Martin", "phone": "06 12 34 56 78"},
            },
            format="json",
        )
        .json()
    )
    assert booked["setup"] is not None
    page = browser_page
    errors = _watch(page)

    page.goto(f"/bella/booking/{booked['manage_token']}/pay/")
    expect(page.locator("#authorisation")).to_contain_text(
        "J\u2019autorise Bella Coiffure à débiter ma carte jusqu\u2019à 20,00"
    )
    _no_axe_violations(page)
    page.get_by_label("Card number").fill("4000 0027 6000 3184")  # asks for 3-D Secure
    page.locator("#save-card").click()
    page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
    expect(page.locator("h1")).to_have_text("Votre rendez-vous est confirmé")
    with salon_scope(salon):
        card = SavedCard.objects.get()
        assert card.status == SavedCardStatus.SAVED and card.last4 == "3184"
        # The client did not come.
        Booking.objects.filter(pk=booked["id"]).update(status=Status.NO_SHOW)

    url = f"/api/v1/salons/bella/backoffice/bookings/{booked['id']}/charge-fee/"
    answer = api(team_a.staff).post(url, {"kind": "no_show"}, format="json")
    fee = answer.json()
    assert answer.status_code == 201, fee
    assert fee["status"] == "requires_action"

    page.goto(fee["pay_url"].removeprefix(settings.SITE_URL))
    expect(page.locator("#fee-confirm")).to_have_text(
        "Votre banque vous demande de confirmer ce paiement."
    )
    expect(page.locator("main")).to_contain_text("Frais de rendez-vous manqué")
    _no_axe_violations(page)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.locator("#pay").click()
    expect(page.locator("#fee-paid")).to_have_text("Payé, merci.")
    _no_axe_violations(page)
    with salon_scope(salon):
        assert FeeCharge.objects.get().status == FeeStatus.SUCCEEDED
    assert errors == []
