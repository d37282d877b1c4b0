"""The owner's back office in Chromium, in French and in English (issue 17, acceptance 1
and 4): on the demo salon, the owner types a percent policy with its minimum and maximum
in euros, builds a three-step ramp with the helper (its day picked in the date picker),
saves, reads the ramp's chart and the simulator's sentence, previews a change for a
chosen day, service and kind of client without saving it (the database read back
unchanged), then connects Stripe through the stand-in until the setup checklist says
"ready". Every admin page on the way is axe-clean."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command

from core.money import money_format
from deposits.models import DepositPolicy, RampStep
from deposits.selectors import policy_get, salon_today
from deposits.simulator import policy_simulate
from tenants.models import Salon
from tenants.scoping import salon_scope
from tests.browser.harness import DESKTOP, axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

# What the owner types and reads, in each language.
WORDS: dict[str, dict[str, Any]] = {
    "fr-FR": {
        "lang": "fr",
        "money": lambda cents: money_format(cents, "EUR", "fr"),
        "euros": lambda text: text.replace(".", ","),
        "title": "Mise en place de Atelier Démo",
        "ready": "Prêt",
        "done": "Fait",
        "to_do": "À faire",
        "why": "du prix, règle du salon.",
        "policy_step": "Politique d\u2019acompte",
        "payments_step": "Paiements",
        "connect": "Connecter Stripe",
        "saved": "a été modifié avec succès",
        "simulation": "Sur les 90 derniers jours, cette règle aurait demandé",
        "unsaved": "rien n\u2019est enregistré",
        "account": "paiements activés\u00a0: oui\u00a0; informations fournies\u00a0: oui.",
    },
    "en-GB": {
        "lang": "en",
        "money": lambda cents: money_format(cents, "EUR", "en"),
        "euros": lambda text: text,
        "title": "Setting up Atelier Démo",
        "ready": "Ready",
        "done": "Done",
        "to_do": "To do",
        "why": "of the price, the salon's rule.",
        "policy_step": "Deposit policy",
        "payments_step": "Payments",
        "connect": "Connect Stripe",
        "saved": "was changed successfully",
        "simulation": "Over the last 90 days, this policy would have asked",
        "unsaved": "nothing is saved",
        "account": "charges enabled: yes; details submitted: yes.",
    },
}

PRICES = {"Coupe femme": 4800, "Coupe homme": 2600, "Couleur": 7500, "Brushing": 3000}


@pytest.fixture
def demo(settings, tmp_path, stripe_api) -> Salon:
    """The demo salon, its payments through Stripe (the stand-in), not the test mode:
    the checklist's payment step is the owner's to do."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", stdout=io.StringIO())
    return Salon.objects.get(slug="demo")


def _month_start(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def _clamped(price: int, percent: int, low: int, high: int) -> int:
    """A percentage of the price (half a cent up), within the policy's min and max."""
    return min(max((price * percent + 50) // 100, low), high, price)


def _policy_row(salon: Salon) -> tuple[Any, ...]:
    with salon_scope(salon):
        policy = DepositPolicy.objects.get(salon=salon)
        steps = list(
            RampStep.objects.filter(policy=policy)
            .order_by("starts_on")
            .values_list("starts_on", "rule_kind", "rule_value")
        )
    return (
        policy.rule_kind,
        policy.rule_value,
        policy.min_amount,
        policy.max_amount,
        policy.updated_at,
        steps,
    )


def _axe_clean(page: Any, lang: str) -> None:
    assert page.locator("html").get_attribute("lang") == lang, page.url
    assert axe_violations(page) == [], page.url


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_an_owner_sets_previews_and_readies_the_demo_in_a_browser(
    chromium, pages_server, demo, locale
):
    from playwright.sync_api import expect

    words = WORDS[locale]
    lang, money, euros = words["lang"], words["money"], words["euros"]
    context = chromium.new_context(viewport=DESKTOP, locale=locale, base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", "demo")
        page.fill("#id_password", "demo")
        page.click("input[type=submit], button[type=submit]")

        # The index: the checklist, Stripe not connected yet.
        checklist = page.locator("section.setup-checklist")
        expect(checklist.get_by_role("heading", name=words["title"])).to_be_visible()
        expect(checklist.locator(".setup-state")).to_contain_text("6")
        expect(checklist.locator(".setup-state strong")).to_have_count(0)
        expect(checklist.locator("[data-step=payments] .setup-done")).to_have_text(words["to_do"])
        _axe_clean(page, lang)

        # The deposit policy, from the checklist.
        checklist.get_by_role("link", name=words["policy_step"]).click()
        page.locator("#result_list").get_by_role("link", name="Atelier Démo").click()
        expect(page.locator("#id_rule_kind")).to_be_visible()
        _axe_clean(page, lang)

        # 10 % of the price, at least 5 EUR and at most 40 EUR, typed in euros.
        page.select_option("#id_rule_kind", "percent")
        page.fill("#id_rule_value", "10")
        page.fill("#id_min_amount", euros("5.00"))
        page.fill("#id_max_amount", euros("40.00"))
        # The ramp helper: 20 % from the first of next month, full prepayment two months
        # later; the day picked in the date picker.
        page.fill("#id_ramp_from", "20")
        page.fill("#id_ramp_to", "100")
        page.fill("#id_ramp_months", "2")
        page.locator("#id_ramp_first_day ~ .datetimeshortcuts a[id^=calendarlink]").click()
        calendar = page.locator(".calendarbox:visible")
        expect(calendar).to_have_count(1)
        calendar.locator(".calendarnav-next").click()
        calendar.locator("td a").get_by_text("1", exact=True).click()
        expect(calendar).to_have_count(0)
        expect(page.locator("#id_ramp_first_day")).not_to_have_value("")
        page.click("input[name=_continue]")
        expect(page.locator(".messagelist")).to_contain_text(words["saved"])

        today = salon_today(demo)
        first = _month_start(today, 1)
        steps = [first, _month_start(today, 2), _month_start(today, 3)]
        saved = _policy_row(demo)
        assert saved[:4] == ("percent", 10, 500, 4000)
        assert saved[5] == [
            (steps[0], "percent", 20),
            (steps[1], "percent", 60),
            (steps[2], "full", None),
        ]
        # The form shows what was saved, in euros.
        expect(page.locator("#id_min_amount")).to_have_value(euros("5.00"))
        expect(page.locator("#id_max_amount")).to_have_value(euros("40.00"))

        # The chart: today's base rule, then each step on the first of its month.
        title = page.locator("#ramp-chart-title").inner_text()
        service = next(name for name in PRICES if name in title)
        price = PRICES[service]
        months = [today] + [_month_start(today, k) for k in range(1, 12)]
        expected = []
        for day in months:
            if day >= steps[2]:
                cents = price
            elif day >= steps[1]:
                cents = _clamped(price, 60, 500, 4000)
            elif day >= steps[0]:
                cents = _clamped(price, 20, 500, 4000)
            else:
                cents = _clamped(price, 10, 500, 4000)
            expected.append(money(cents))
        bars = page.locator("#ramp-chart g")
        expect(bars).to_have_count(12)
        expect(bars.locator("text:first-of-type")).to_have_text(expected)
        heights = [
            int(h)
            for h in bars.locator("rect").evaluate_all(
                "rects => rects.map(r => r.getAttribute('height'))"
            )
        ]
        assert heights == sorted(heights) and heights[0] < heights[1] < heights[2] < heights[3]

        # The simulator's sentence, with the figures of the policy just saved.
        with salon_scope(demo):
            policy, ramp = policy_get(salon=demo)
            figures = policy_simulate(
                salon=demo, policy=policy, ramp=[(s.starts_on, s.rule) for s in ramp]
            )
        assert figures.asked > 0
        simulation = page.locator("#simulation")
        expect(simulation).to_contain_text(words["simulation"])
        expect(simulation).to_contain_text(money(figures.asked))
        expect(simulation).to_contain_text(money(figures.kept))
        _axe_clean(page, lang)

        # A change previewed for the day before the ramp, the colour, each kind of
        # client: 30 % of 75 EUR shown, nothing saved.
        page.fill("#id_rule_value", "30")
        page.fill("#preview_date", (first - dt.timedelta(days=1)).isoformat())
        page.select_option("#preview_service", label="Couleur")
        page.click("#preview-button")
        expect(page.locator("#preview-unsaved")).to_contain_text(words["unsaved"])
        row = page.locator("#deposit-preview tbody tr").filter(
            has=page.get_by_role("rowheader", name="Couleur", exact=True)
        )
        # Price, then a new client, a trusted client, a client with no-shows.
        expect(row.locator("td").nth(1)).to_have_text(money(2250))
        expect(row.locator("td").nth(2)).to_have_text(money(0))
        expect(row.locator("td").nth(3)).to_have_text(money(7500))
        expect(row.locator("td").nth(4)).to_contain_text(words["why"])
        expect(page.locator("#ramp-chart-title")).to_contain_text("Couleur")
        expect(page.locator("#id_rule_value")).to_have_value("30")  # kept as typed
        assert _policy_row(demo) == saved
        _axe_clean(page, lang)
        # Read again, the page shows the saved policy's 10 %.
        page.goto(page.url)
        expect(page.locator("#id_rule_value")).to_have_value("10")

        # Stripe connected through its onboarding (the stand-in's), from the checklist.
        page.goto("/admin/")
        checklist.get_by_role("link", name=words["payments_step"]).click()
        _axe_clean(page, lang)
        page.get_by_role("button", name=words["connect"]).click()
        expect(page.locator("tr#payments")).to_contain_text(words["account"])
        _axe_clean(page, lang)
        demo.refresh_from_db()
        assert demo.stripe_account and demo.stripe_charges_enabled

        page.goto("/admin/")
        expect(checklist.locator(".setup-state strong")).to_have_text(words["ready"])
        expect(checklist.locator(".setup-done")).to_have_text([words["done"]] * 7)
        _axe_clean(page, lang)

        # The owner's other pages: the figures, the clients, the bookings.
        for path in (
            "/admin/deposits/depositpolicy/recovered/",
            "/admin/customers/customer/",
            "/admin/bookings/booking/",
        ):
            page.goto(path)
            expect(page.locator("#content h1")).to_be_visible()
            _axe_clean(page, lang)
        page.goto("/admin/customers/customer/")
        page.locator("#result_list tbody tr th a").first.click()
        expect(page.locator("#content h1")).to_be_visible()
        _axe_clean(page, lang)
    finally:
        context.close()
