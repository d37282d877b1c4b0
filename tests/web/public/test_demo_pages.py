"""The client's pages on the seeded demo salon (`make run`), as a newcomer sees them: its
page, the booking steps to the recap, and Léa Martin's space after the one-time code. At
a phone's size, in French, each axe-clean. `make screenshots` keeps these pictures in
docs/screenshots, where the README shows them: they match the demo a newcomer gets."""

import io
import re

import pytest
from django.core.management import call_command

from tenants.models import Salon
from tests.web.public.test_client_space import _code_sent

LEA_PHONE = "06 12 34 56 78"  # the demo's Léa Martin (web/management/commands/seed_demo.py)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db(transaction=True)
def test_the_demo_salon_its_steps_and_a_clients_space(chromium, pages_server, settings):
    from playwright.sync_api import expect

    from tests.browser.harness import PHONE, SCREENSHOTS, axe_violations

    settings.PAYMENTS_TEST_MODE = True
    call_command("seed_demo", stdout=io.StringIO())
    salon = Salon.objects.get(slug="demo")
    context = chromium.new_context(viewport=PHONE, locale="fr-FR", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        assert axe_violations(page) == []
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)

    try:
        page.goto("/demo/")
        expect(page.locator("h1")).to_have_text("Atelier Démo")
        expect(page.locator("body")).to_contain_text("Coupe femme")
        shot("salon-page.png")
        # From the page's "Book" link of a service to the recap, on the first free time.
        page.locator("a", has_text="Réserver").first.click()
        page.wait_for_url(re.compile(r"/demo/book/"))
        expect(page.locator("#step-services")).to_be_visible()
        page.locator("#next").click()
        expect(page.locator("#step-staff")).to_be_visible()
        page.locator("#next").click()
        expect(page.locator("#step-time")).to_be_visible()
        assert axe_violations(page) == []
        page.locator("button.time").first.click()
        expect(page.locator("#step-details")).to_be_visible()
        page.fill("#id_name", "Nora Petit")
        page.fill("#id_phone", "06 98 76 54 32")
        page.locator("#next").click()
        expect(page.locator("#step-recap")).to_be_visible()
        expect(page.locator("#book")).to_contain_text("€")
        assert axe_violations(page) == []
        # Léa Martin, a client of the demo, signs in to her space with the code.
        page.goto("/demo/me/")
        page.fill("#phone", LEA_PHONE)
        page.keyboard.press("Enter")
        expect(page.locator("#code-sent")).to_be_visible()
        page.fill("#code", _code_sent(salon, "+33612345678"))
        page.keyboard.press("Enter")
        expect(page.locator("#space-hello")).to_contain_text("Léa Martin")
        shot("space.png")
    finally:
        context.close()
    assert errors == []
