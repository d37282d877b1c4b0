"""The booking recap in French, in a real browser: the money named (arrhes) with its
consequences, the right of withdrawal, and the express request's box, unticked until the
client ticks it; the booking keeps what she was shown and asked."""

import re

import pytest

from bookings.models import Booking
from deposits.models import BookingTerms
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.web.public.test_booking_steps import _ahead, _clean, _tab_to


@pytest.mark.django_db(transaction=True)
def test_the_french_recap_names_arrhes_and_records_the_express_request(
    chromium, pages_server, settings, catalogue_a
):
    from playwright.sync_api import expect

    from tests.browser.harness import PHONE

    settings.PAYMENTS_TEST_MODE = True
    salon = catalogue_a.salon
    with salon_scope(salon):
        policy_set(
            salon=salon,
            rule={"kind": "fixed", "value": 1500},
            ramp=[],
            deposit_kind="arrhes",
            withdrawal_refund="full",
            late_cancellation="forfeit",
        )
    day = _ahead(salon, 4)
    context = chromium.new_context(viewport=PHONE, locale="fr-FR", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"/bella/book/?service={catalogue_a.cut.pk}")
        page.locator("#next").click()
        expect(page.locator("#step-staff")).to_be_visible()
        page.get_by_label("Alice", exact=True).check()
        page.locator("#next").click()
        expect(page.locator("#step-time")).to_be_visible()
        link = page.locator(f'a.day[data-day="{day.isoformat()}"]')
        if link.count() == 0:
            page.locator("#next-week").click()
            link.wait_for()
        link.click()
        expect(page.locator(f'a.day[data-day="{day.isoformat()}"][aria-current]')).to_be_visible()
        page.locator('button.time[value*="T10:00"]').click()
        expect(page.locator("#step-details")).to_be_visible()
        page.fill("#id_name", "Léa Martin")
        page.fill("#id_phone", "06 12 34 56 78")
        page.locator("#next").click()
        expect(page.locator("#step-recap")).to_be_visible()
        _clean(page)
        kind = page.locator("#deposit-kind")
        expect(kind).to_contain_text("Les 15,00\u00a0€ versés à la réservation sont des arrhes")
        expect(kind).to_contain_text("chacun peut se dédire")
        expect(kind).to_contain_text("il vous les restitue au double (30,00\u00a0€)")
        expect(page.locator("#withdrawal")).to_contain_text("Droit de rétractation")
        expect(page.locator("#withdrawal")).to_contain_text("L221-18")
        expect(page.locator("#terms-link")).to_have_attribute("href", "/bella/terms/")
        box = page.locator("#id_express_request")
        expect(box).not_to_be_checked()
        expect(page.locator('label[for="id_express_request"]')).to_contain_text(
            "Je demande expressément que mon rendez-vous ait lieu avant la fin du délai"
        )
        _tab_to(page, "#id_express_request")
        page.keyboard.press("Space")
        expect(box).to_be_checked()
        page.locator("#book").click()
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/pay/$"))
        expect(page.locator("#terms-text")).to_contain_text("sont des arrhes")
        _clean(page)
        page.locator("#pay").click()
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
        expect(page.locator("h1")).to_have_text("Votre rendez-vous est confirmé")
        expect(page.locator("#terms-express")).to_contain_text(
            "Vous avez demandé que votre rendez-vous ait lieu pendant le délai de rétractation"
        )
        _clean(page)
        page.locator("#cgv-link").click()
        expect(page.locator("#cgv")).to_contain_text("constitue des arrhes")
        _clean(page)
    finally:
        context.close()
    with salon_scope(salon):
        terms = BookingTerms.objects.get(booking=Booking.objects.get())
    assert (terms.deposit_kind, terms.express_request, terms.channel) == ("arrhes", True, "web")
    assert terms.language == "fr" and "sont des arrhes" in terms.text
    assert errors == []
