"""The desk's scheduler in Chromium, in French and in English: a booking moved by keyboard
alone (its Move link, the new time, what happens to the money, confirm) and by drag and
drop onto a free time (the same confirmation), the grid refreshed by itself when a booking
is taken meanwhile, every page axe-clean."""

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking
from deposits.models import Payment, PaymentStatus
from tenants.scoping import salon_scope
from tests.browser.harness import DESKTOP, PHONE, SCREENSHOTS, axe_violations
from tests.conftest import MONDAY, book, local
from tests.factories import PASSWORD, CustomerFactory

TUESDAY = "2027-03-02"
TEXT = {
    "fr": {
        "money": "L\u2019acompte de 15,00\u00a0€ déjà payé suit le rendez-vous",
        "moved": "Déplacé au mardi 2 mars 2027 à 14:30 avec Bob.",
        "free": "14:30 avec Bob, libre",
        "updated": "Le planning a été mis à jour.",
    },
    "en": {
        "money": "The deposit of €15.00 already paid moves with the appointment",
        "moved": "Moved to Tuesday 2 March 2027 at 14:30 with Bob.",
        "free": "14:30 with Bob, free",
        "updated": "The schedule was updated.",
    },
}


def _client(salon, name, phone):
    with salon_scope(salon):
        return CustomerFactory(salon=salon, name=name, phone=phone, email=None)


def _paid_booking(catalogue, salon):
    booking = book(
        catalogue,
        _client(salon, "Jeanne Martin", "+33612345678"),
        local(salon, 1, 10),
        staff=catalogue.alice,
        now=MONDAY,
    )
    with salon_scope(salon):
        Payment.objects.create(
            salon=salon,
            booking=booking,
            kind="deposit",
            amount=1500,
            currency="EUR",
            status=PaymentStatus.SUCCEEDED,
            intent_id=f"pi_paid_{booking.pk}",
        )
    return booking


def _page(chromium, server, language, viewport=DESKTOP):
    context = chromium.new_context(
        viewport=viewport, locale="fr-FR" if language == "fr" else "en-GB", base_url=server.url
    )
    context.set_default_timeout(10_000)
    return context, context.new_page()


def _log_in(page):
    page.goto("/desk/login/")
    page.fill("#id_username", "bella-staff")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/bella/$"))


def _moved(booking, catalogue, salon):
    booking.refresh_from_db()
    assert booking.start == local(salon, 1, 14, 30) and booking.staff_id == catalogue.bob.pk
    with salon_scope(salon):
        payment = Payment.objects.get(booking=booking)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.outcome == ""  # untouched


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.django_db(transaction=True)
def test_a_booking_moves_by_keyboard_with_the_money_said_first(
    chromium, pages_server, team_a, catalogue_a, language
):
    salon = team_a.salon
    text = TEXT[language]
    with time_machine.travel(MONDAY, tick=True):
        booking = _paid_booking(catalogue_a, salon)
        context, page = _page(chromium, pages_server, language)
        try:
            _log_in(page)
            page.goto(f"/desk/bella/schedule/?date={TUESDAY}")
            assert axe_violations(page) == []
            block = page.locator(f".day-block[data-booking='{booking.pk}']")
            expect(block).to_contain_text("Jeanne Martin")
            # The free quarter is a link named for a screen reader.
            expect(page.get_by_role("link", name=text["free"])).to_have_count(1)
            block.locator("a").first.focus()
            page.keyboard.press("Tab")
            expect(block.locator(".day-move")).to_be_focused()
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(rf"/bookings/{booking.pk}/move/$"))
            assert axe_violations(page) == []
            page.locator("#id_staff").focus()
            page.keyboard.press("End")  # Bob, the last of Alice and Bob
            expect(page.locator("#id_staff")).to_have_value(str(catalogue_a.bob.pk))
            for _stop in range(6):  # the day stays (its parts are tab stops): on to the time
                if page.evaluate("document.activeElement.id") == "id_time":
                    break
                page.keyboard.press("Tab")
            expect(page.locator("#id_time")).to_be_focused()
            page.keyboard.type("1430")
            page.keyboard.press("Enter")
            expect(page.locator("#move-money")).to_contain_text(text["money"])
            assert axe_violations(page) == []
            with salon_scope(salon):
                assert Booking.objects.get(pk=booking.pk).start == local(salon, 1, 10)
            page.locator("#confirm-move").focus()
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(rf"/schedule/\?date={TUESDAY}$"))
            expect(page.locator(".desk-messages")).to_contain_text(text["moved"])
            moved = page.locator(
                f"#staff-{catalogue_a.bob.pk} .day-block[data-booking='{booking.pk}']"
            )
            expect(moved).to_contain_text("14:30")
            assert axe_violations(page) == []
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"desk-day-{language}.png"), full_page=True)
        finally:
            context.close()
    _moved(booking, catalogue_a, salon)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.django_db(transaction=True)
def test_a_booking_moves_by_drag_and_drop_and_the_grid_refreshes_by_itself(
    chromium, pages_server, team_a, catalogue_a, language
):
    salon = team_a.salon
    text = TEXT[language]
    with time_machine.travel(MONDAY, tick=True):
        booking = _paid_booking(catalogue_a, salon)
        # Tall enough for the booking and the time it is dropped on to be both in view.
        tall = {"width": DESKTOP["width"], "height": 1600}
        context, page = _page(chromium, pages_server, language, viewport=tall)
        try:
            _log_in(page)
            page.goto(f"/desk/bella/schedule/?date={TUESDAY}")
            block = page.locator(f".day-block[data-booking='{booking.pk}']")
            target = page.locator(
                f".day-cell[data-staff='{catalogue_a.bob.pk}']"
                f"[data-start='{local(salon, 1, 14, 30).astimezone(dt.UTC).isoformat()}']"
            )
            block.drag_to(target)
            page.wait_for_url(re.compile(rf"/bookings/{booking.pk}/move/\?"))
            expect(page.locator("#move-money")).to_contain_text(text["money"])
            assert axe_violations(page) == []
            page.click("#confirm-move")
            page.wait_for_url(re.compile(rf"/schedule/\?date={TUESDAY}$"))
            expect(page.locator(".desk-messages")).to_contain_text(text["moved"])

            # A booking taken on another desk shows without reloading the page.
            page.evaluate("window.__kept = true")
            other = book(
                catalogue_a,
                _client(salon, "Paul Durand", "+33698765432"),
                local(salon, 1, 11),
                staff=catalogue_a.alice,
            )
            fresh = page.locator(
                f"#staff-{catalogue_a.alice.pk} .day-block[data-booking='{other.pk}']"
            )
            expect(fresh).to_contain_text("Paul Durand", timeout=25_000)
            expect(page.locator("#day-live")).to_have_text(text["updated"])
            assert page.evaluate("window.__kept === true")  # the same page, not reloaded
            assert axe_violations(page) == []
        finally:
            context.close()
    _moved(booking, catalogue_a, salon)


@pytest.mark.django_db(transaction=True)
def test_the_day_scrolls_sideways_on_a_phone_not_the_page(
    chromium, pages_server, team_a, catalogue_a
):
    with time_machine.travel(MONDAY, tick=True):
        _paid_booking(catalogue_a, team_a.salon)
        context, page = _page(chromium, pages_server, "fr", viewport=PHONE)
        try:
            _log_in(page)
            page.goto(f"/desk/bella/schedule/?date={TUESDAY}")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            board = page.locator("#day-board")
            assert board.evaluate("b => b.scrollWidth > b.clientWidth")
            assert axe_violations(page) == []
        finally:
            context.close()
