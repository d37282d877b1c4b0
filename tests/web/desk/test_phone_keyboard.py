"""A phone booking by keyboard alone, counted, in Chromium, in French and in English: for
a client already known in at most 25 key presses beyond the digits of her number, for a
new client in at most 40 beyond her name and number. The chosen client's card appears
beside the form, and Alt+R opens a new request from the call, hers and by phone. Every
page axe-clean."""

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking
from customers.models import Customer
from tenants.scoping import salon_scope
from tests.browser.harness import DESKTOP, axe_violations
from tests.conftest import MONDAY
from tests.factories import PASSWORD, CustomerFactory

BOOK = "/desk/bella/book/"
EXISTING_BUDGET = 25
NEW_BUDGET = 40
CARD = {"fr": "Fiche client\u00a0: Jeanne Martin", "en": "Client card: Jeanne Martin"}


class Keys:
    """The keyboard, counted: every press and every typed character counts, except the
    text given as `free` (the client's digits and name, which the budget leaves out)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def press(self, key: str) -> None:
        self.count += 1
        self.page.keyboard.press(key)

    def type(self, text: str, *, free: bool = False) -> None:
        if not free:
            self.count += len(text)
        self.page.keyboard.type(text, delay=15)

    def tab_to(self, selector: str, most: int = 10) -> None:
        """Tab (each counted) until `selector` has the focus."""
        for _stop in range(most):
            if self.page.evaluate("s => document.activeElement.matches(s)", selector):
                return
            self.press("Tab")
        expect(self.page.locator(selector)).to_be_focused()


def _page(chromium, server, language):
    context = chromium.new_context(
        viewport=DESKTOP, locale="fr-FR" if language == "fr" else "en-GB", base_url=server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/desk/login/")
    page.fill("#id_username", "bella-staff")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/bella/$"))
    return context, page


def _service_staff_time(page, keys: Keys, catalogue) -> str:
    """From the client's part of the form: the cut by type-ahead, Bob by his initial, the
    first free time of the day; Enter takes the booking. The time chosen, as posted."""
    keys.tab_to("#id_service")
    keys.type("coup")
    expect(page.locator("#id_service")).to_have_value(str(catalogue.cut.pk))
    keys.tab_to("#id_staff")
    with page.expect_response(re.compile(r"/book/slots/\?.*staff=")):
        keys.type("b")
    expect(page.locator("#id_staff")).to_have_value(str(catalogue.bob.pk))
    keys.tab_to("#slots input[name=start]", most=4)
    keys.press("Space")
    chosen = page.locator("#slots input[name=start]:checked")
    expect(chosen).to_have_count(1)
    start = chosen.get_attribute("value") or ""
    assert axe_violations(page) == []
    with page.expect_navigation():
        keys.press("Enter")
    return start


def _booked(customer: Customer, catalogue, start: str) -> None:
    with salon_scope(catalogue.salon):
        booking = Booking.objects.get(customer=customer)
    assert booking.service_id == catalogue.cut.pk
    assert booking.staff_id == catalogue.bob.pk
    assert booking.start == dt.datetime.fromisoformat(start)
    assert booking.start.date() == MONDAY.date()


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.django_db(transaction=True)
def test_an_existing_client_is_booked_in_25_key_presses(
    chromium, pages_server, team_a, catalogue_a, language
):
    salon = team_a.salon
    with time_machine.travel(MONDAY, tick=True):
        with salon_scope(salon):
            jeanne = CustomerFactory(
                salon=salon, name="Jeanne Martin", phone="+33612345678", email=None
            )
        context, page = _page(chromium, pages_server, language)
        try:
            page.goto(BOOK)
            keys = Keys(page)
            expect(page.locator("#q")).to_be_focused()
            keys.type("0612345678", free=True)
            expect(page.locator(f"#matches input[value='{jeanne.pk}']")).to_be_checked()
            # Her card, beside the form, in a region that speaks when it changes.
            card = page.get_by_role(
                "region", name="Fiche client" if language == "fr" else "Client card"
            )
            expect(card).to_have_attribute("aria-live", "polite")
            expect(card).to_contain_text(CARD[language])
            assert axe_violations(page) == []
            start = _service_staff_time(page, keys, catalogue_a)
            page.wait_for_url(re.compile(r"/desk/bella/bookings/\d+/$"))
            assert keys.count <= EXISTING_BUDGET, keys.count
            _booked(jeanne, catalogue_a, start)
            assert axe_violations(page) == []
        finally:
            context.close()


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.django_db(transaction=True)
def test_a_new_client_is_booked_in_40_key_presses(
    chromium, pages_server, team_a, catalogue_a, language
):
    with time_machine.travel(MONDAY, tick=True):
        context, page = _page(chromium, pages_server, language)
        try:
            page.goto(BOOK)
            keys = Keys(page)
            expect(page.locator("#q")).to_be_focused()
            keys.type("06 98 76 54 32", free=True)
            expect(page.locator("#customer-new")).to_be_checked()
            expect(page.locator("#id_phone")).to_have_value("06 98 76 54 32")
            keys.tab_to("#id_name")
            keys.type("Paul Durand", free=True)
            start = _service_staff_time(page, keys, catalogue_a)
            page.wait_for_url(re.compile(r"/desk/bella/bookings/\d+/$"))
            assert keys.count <= NEW_BUDGET, keys.count
            with salon_scope(team_a.salon):
                paul = Customer.objects.get(phone="+33698765432")
            assert paul.name == "Paul Durand"
            _booked(paul, catalogue_a, start)
        finally:
            context.close()


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.django_db(transaction=True)
def test_alt_r_opens_a_new_request_from_the_call(
    chromium, pages_server, team_a, catalogue_a, language
):
    salon = team_a.salon
    with time_machine.travel(MONDAY, tick=True):
        with salon_scope(salon):
            jeanne = CustomerFactory(
                salon=salon, name="Jeanne Martin", phone="+33612345678", email=None
            )
        context, page = _page(chromium, pages_server, language)
        try:
            page.goto(BOOK)
            page.keyboard.type("0612345678", delay=15)
            expect(page.locator("#client-card")).to_contain_text(CARD[language])
            with page.expect_navigation():
                page.keyboard.press("Alt+R")
            assert re.search(rf"/requests/\?channel=phone&customer={jeanne.pk}$", page.url)
            expect(page.locator("#id_summary")).to_be_focused()
            expect(page.locator("#id_channel")).to_have_value("phone")
            expect(page.locator("#id_client")).to_have_value("Jeanne Martin")
            assert axe_violations(page) == []
        finally:
            context.close()
