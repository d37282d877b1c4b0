"""The waitlist in a browser: Debian's Chromium at a phone's size, in French, axe-core on
every page. A client for whom no time suits asks to be told when one frees up, from the
booking steps; she sees her place and leaves the list in one click."""

import re

import pytest

from support.models import WaitlistEntry, WaitlistSource, WaitlistStatus
from tenants.scoping import salon_scope


def _clean(page) -> None:
    from tests.browser.harness import axe_violations

    assert axe_violations(page) == []


@pytest.mark.django_db(transaction=True)
def test_a_phone_in_french_joins_the_waitlist_from_the_booking_steps(
    chromium, pages_server, catalogue_a
):
    from playwright.sync_api import expect

    from tests.browser.harness import PHONE

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
        # None of these times suits her.
        page.locator("#waitlist-link a").click()
        expect(page.locator("#step-waitlist")).to_be_visible()
        expect(page.locator("#waitlist-title")).to_have_text(
            "Prévenez-moi quand un créneau se libère"
        )
        _clean(page)
        expect(page.locator("#id_staff")).to_have_value(str(catalogue_a.alice.pk))
        expect(page.locator("#id_consent")).not_to_be_checked()
        page.get_by_label("Après-midi (de 12 h à 17 h)").check()
        page.locator("#id_name").fill("Léa Martin")
        page.locator("#id_phone").fill("06 12 34 56 78")
        # Without her consent: the form says so, and keeps what she typed.
        page.locator("#join-waitlist").click()
        expect(page.locator("#id_consent-error")).to_be_visible()
        expect(page.locator("#form-errors")).to_be_visible()
        expect(page.locator("#id_name")).to_have_value("Léa Martin")
        _clean(page)
        page.get_by_label(re.compile("Prévenez-moi par SMS")).check()
        page.locator("#join-waitlist").click()
        page.wait_for_url(re.compile(r"/bella/waitlist/[^/]+/joined/$"))
        expect(page.locator("h1")).to_have_text("Vous êtes sur la liste d\u2019attente")
        expect(page.locator("#wishes")).to_contain_text("Coupe")
        expect(page.locator("#wishes")).to_contain_text("Alice")
        expect(page.locator("#wishes")).to_contain_text("Après-midi")
        _clean(page)
        page.locator("#entry-link").click()
        page.wait_for_url(re.compile(r"/bella/waitlist/[^/]+/$"))
        expect(page.locator("h1")).to_have_text("Ma place sur la liste d\u2019attente")
        expect(page.locator("#status-title")).to_contain_text("En attente")
        _clean(page)
        page.locator("#leave").click()
        expect(page.locator(".flash")).to_contain_text("Vous avez quitté la liste d\u2019attente")
        expect(page.locator("#leave")).to_have_count(0)
        _clean(page)
    finally:
        context.close()
    with salon_scope(catalogue_a.salon):
        entry = WaitlistEntry.objects.select_related("customer").get()
    assert entry.source == WaitlistSource.WEB and entry.status == WaitlistStatus.LEFT
    assert entry.parts_of_day == ["afternoon"] and entry.staff_id == catalogue_a.alice.pk
    assert entry.consent_at is not None and entry.customer.name == "Léa Martin"
    assert errors == []
