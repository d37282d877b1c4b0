"""The offer's page in a browser, on a phone, in French and English: axe-core finds no
serious or critical violation on the offer, on its acceptance's pay page, and on the
pages that say the time was taken meanwhile or the offer expired."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.services import booking_cancel, booking_create
from deposits.services import policy_set
from support.models import OfferStatus, WaitlistOffer
from support.refill import waitlist_run
from support.waitlist import waitlist_join
from tenants.scoping import salon_scope
from tests.browser.harness import PHONE, axe_violations
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def offered(settings, team_a, team_b, catalogue_a):
    """Anna waits for a cut; Léa's cut with Alice, in three days at 10:00, is cancelled."""
    settings.PAYMENTS_TEST_MODE = True
    salon = team_a.salon
    day = timezone.now().astimezone(salon.tz).date() + dt.timedelta(days=3)
    day += dt.timedelta(days=1) if day.weekday() == 6 else dt.timedelta()
    anna = CustomerFactory(salon=salon, name="Anna Martin", language="fr")
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
        waitlist_join(
            salon=salon,
            customer=anna,
            services=[catalogue_a.cut],
            staff=None,
            first=day,
            last=day,
            parts_of_day=[],
            consent=True,
            source="web",
        )
        booking = booking_create(
            salon=salon,
            service=catalogue_a.cut,
            staff=catalogue_a.alice,
            start=dt.datetime.combine(day, dt.time(10), tzinfo=salon.tz),
            customer=CustomerFactory(salon=salon, name="Léa"),
        )
        booking_cancel(booking=booking, by_salon=True)
        waitlist_run(salon=salon)
        return WaitlistOffer.objects.get()


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_the_taken_and_expired_pages_pass_axe(chromium, pages_server, offered, locale):
    context = chromium.new_context(viewport=PHONE, locale=locale, base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    url = f"/bella/waitlist/offers/{offered.token}/"
    try:
        for status, expires in (
            (OfferStatus.TAKEN, offered.expires_at),
            (OfferStatus.OPEN, timezone.now() - dt.timedelta(minutes=1)),
        ):
            with salon_scope(offered.salon_id):
                WaitlistOffer.objects.filter(pk=offered.pk).update(
                    status=status, expires_at=expires
                )
            page.goto(url)
            expect(page.locator("#offer-state")).to_be_visible()
            assert page.locator("#accept").count() == 0
            assert axe_violations(page) == [], status
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_the_offer_is_accepted_and_paid_in_the_browser(chromium, pages_server, offered, locale):
    context = chromium.new_context(viewport=PHONE, locale=locale, base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"/bella/waitlist/offers/{offered.token}/")
        assert page.locator("html").get_attribute("lang") == locale[:2]
        expect(page.locator("#offer-deposit")).to_contain_text("15")
        assert axe_violations(page) == []
        page.locator("#accept").click()
        page.wait_for_url("**/pay/")
        assert axe_violations(page) == []
        page.locator("#pay").click()
        # The confirmation, once the payment is through: nothing left loading.
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/(\?.*)?$"))
        expect(page.locator("h1")).to_contain_text("confirmé" if locale == "fr-FR" else "confirmed")
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
