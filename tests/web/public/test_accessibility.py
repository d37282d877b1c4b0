"""Every page, public and staff, in both languages: axe-core finds no serious or critical
violation. (The booking, manage and desk flows check their own pages as they go; this
sweeps the others: home, the pay page of a payment link, the unsubscribe page, a request,
the desk's salon chooser and the owner's dashboard.)"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from customers.consent import withdraw_url
from deposits.checkout import phone_booking_take
from deposits.models import DepositPolicy, Payment
from deposits.paylinks import pay_url
from deposits.payments import checkout_charge
from deposits.services import policy_set
from support.services import request_open
from tenants.models import Role
from tenants.scoping import salon_scope
from tests.browser.harness import PHONE, axe_violations
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def world(settings, team_a, team_b, catalogue_a):
    """A phone booking awaiting its payment link, a request, a member of two salons."""
    settings.PAYMENTS_TEST_MODE = True
    salon = team_a.salon
    lea = CustomerFactory(salon=salon, consents={"marketing": True})
    day = timezone.now().astimezone(salon.tz).date() + dt.timedelta(days=3)
    day += dt.timedelta(days=1) if day.weekday() == 6 else dt.timedelta()
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
        checkout = phone_booking_take(
            salon=salon,
            actor=team_a.staff,
            service=catalogue_a.cut,
            customer=lea,
            start=dt.datetime.combine(day, dt.time(10), tzinfo=salon.tz),
            staff=None,
            deposit_handling="payment_link",
        )
        checkout_charge(checkout)
        payment = Payment.objects.get(booking=checkout.booking)
        request = request_open(
            salon=salon,
            channel="phone",
            category="lost_item",
            summary="Écharpe oubliée",
            customer=lea,
            item_description="Écharpe bleue",
        )
        unsubscribe = withdraw_url(customer=lea)
    MembershipFactory(salon=team_b.salon, user=team_a.owner, role=Role.OWNER)
    with salon_scope(salon):
        policy = DepositPolicy.objects.get()
        pay = _path(pay_url(payment))
    return {
        "pay": pay,
        "unsubscribe": _path(unsubscribe),
        "policy": f"/admin/deposits/depositpolicy/{policy.pk}/change/",
        "request": f"/desk/bella/requests/{request.pk}/",
    }


def _log_in(page, username: str) -> None:
    page.goto("/desk/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_every_other_page_passes_axe(chromium, pages_server, world, locale):
    context = chromium.new_context(viewport=PHONE, locale=locale, base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    language = locale[:2]
    try:
        for path in ("/", world["pay"], world["unsubscribe"], "/desk/login/"):
            page.goto(path)
            # The pay page of a link speaks its client's language (French, here).
            expected = "fr" if path == world["pay"] else language
            assert page.locator("html").get_attribute("lang") == expected, path
            assert axe_violations(page) == [], path
        _log_in(page, "bella-owner")  # a member of two salons: the chooser
        assert re.search(r"/desk/", page.url)
        assert axe_violations(page) == [], page.url
        for path in (
            world["request"],
            "/admin/",
            "/admin/deposits/depositpolicy/recovered/",
            "/admin/support/customerrequest/",
            "/admin/customers/customer/",
            "/admin/bookings/booking/",
            "/admin/messaging/message/",
            world["policy"],
        ):
            page.goto(path)
            assert axe_violations(page) == [], path
    finally:
        context.close()


def test_the_pay_page_of_a_link_pays_in_the_browser(chromium, pages_server, world):
    context = chromium.new_context(locale="fr-FR", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(world["pay"])
        assert "MODE TEST" in page.locator("main").inner_text()
        page.locator("#pay").click()
        page.wait_for_load_state()
        assert "confirmé" in page.locator("main").inner_text()
        assert axe_violations(page) == []
    finally:
        context.close()
