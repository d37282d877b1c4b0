"""The client's "OUI" by text, seen at the desk in Chromium: a small mark on the day grid's
block, named for a screen reader, and a line on the booking's page; both pages axe-clean,
in French and in English."""

import re

import pytest
import time_machine
from playwright.sync_api import expect

from messaging import sms
from messaging.outbox import messages_run
from support.replies import TextIn, text_reply_receive
from tenants.scoping import salon_scope
from tests.browser.harness import DESKTOP, axe_violations
from tests.conftest import MONDAY, book, local
from tests.factories import PASSWORD, CustomerFactory

LABEL = {"fr": ("Confirmé par le client", "Par SMS"), "en": ("Confirmed by the client", "By text")}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.django_db(transaction=True)
def test_a_booking_the_client_confirmed_by_text_is_marked_on_the_grid_and_its_page(
    chromium, pages_server, settings, team_a, catalogue_a, language
):
    settings.SMS_BACKEND = "locmem"
    settings.TWILIO_AUTH_TOKEN = "twilio-test-token"
    sms.outbox.clear()
    salon = team_a.salon
    mark, line = LABEL[language]
    with time_machine.travel(MONDAY, tick=True):
        with salon_scope(salon):
            jeanne = CustomerFactory(salon=salon, name="Jeanne Martin", phone="+33612345678")
            paul = CustomerFactory(salon=salon, name="Paul Durand", phone="+33698765432")
        confirmed = book(catalogue_a, jeanne, local(salon, 1, 10), staff=catalogue_a.alice)
        silent = book(catalogue_a, paul, local(salon, 1, 10), staff=catalogue_a.bob)
        with salon_scope(salon):
            messages_run(salon=salon)
        text_reply_receive(
            text=TextIn(sid="SMbrowser", sender="+33612345678", to="+33757000000", body="Oui")
        )
        context = chromium.new_context(
            viewport=DESKTOP,
            locale="fr-FR" if language == "fr" else "en-GB",
            base_url=pages_server.url,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            page.goto("/desk/login/")
            page.fill("#id_username", "bella-staff")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/desk/bella/$"))
            page.goto("/desk/bella/schedule/?date=2027-03-02")
            block = page.locator(f".day-block[data-booking='{confirmed.pk}']")
            expect(block.locator(".day-confirmed")).to_be_visible()
            expect(block.get_by_role("link").first).to_contain_text(mark)
            other = page.locator(f".day-block[data-booking='{silent.pk}']")
            expect(other).to_contain_text("Paul Durand")
            expect(other.locator(".day-confirmed")).to_have_count(0)
            assert axe_violations(page) == []
            block.get_by_role("link").first.click()
            page.wait_for_url(re.compile(rf"/bookings/{confirmed.pk}/$"))
            expect(page.locator("#booking-client-confirmed")).to_contain_text(line)
            assert axe_violations(page) == []
        finally:
            context.close()
