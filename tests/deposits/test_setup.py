"""A new salon's setup checklist, and its Stripe account connected through Stripe Connect's
onboarding (the real SDK against the stand-in's accounts and account links)."""

import io
import json

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command

from deposits.models import StripeEvent
from deposits.setup import setup_checklist
from tenants.models import Salon
from tenants.scoping import salon_scope

from ..conftest import book, local, policy_put, stripe_signature
from ..factories import CustomerFactory

pytestmark = pytest.mark.django_db

SETUP = "/admin/deposits/depositpolicy/setup/"
CONNECT = "/admin/deposits/depositpolicy/setup/stripe/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _states(salon) -> dict[str, bool]:
    with salon_scope(salon):
        checklist = setup_checklist(salon=salon)
    return {step.key: step.done for step in checklist.steps}


def test_a_new_salon_has_everything_to_do(team_a):
    with salon_scope(team_a.salon):
        checklist = setup_checklist(salon=team_a.salon)
    assert not checklist.ready
    assert {step.key: step.done for step in checklist.steps} == {
        "details": False,
        "hours": False,
        "services": False,
        "staff": False,
        "policy": False,
        "payments": False,
        "booking": False,
    }
    assert "logo" in checklist.missing_details and "name" not in checklist.missing_details


def test_each_step_is_done_by_what_it_names(team_a, catalogue_a, monday, api):
    states = _states(team_a.salon)
    assert states["hours"] and states["services"] and states["staff"]
    assert not states["policy"] and not states["booking"]
    policy_put(api, team_a)
    with salon_scope(team_a.salon):
        customer = CustomerFactory(salon=team_a.salon)
    book(catalogue_a, customer, local(team_a.salon, 1, 10))
    states = _states(team_a.salon)
    assert states["policy"] and states["booking"]


def test_the_checklist_reads_in_a_bounded_number_of_queries(
    team_a, catalogue_a, api, django_assert_max_num_queries
):
    policy_put(api, team_a)
    with salon_scope(team_a.salon), django_assert_max_num_queries(3):
        setup_checklist(salon=team_a.salon)


def test_the_demo_is_ready_in_test_mode(settings):
    settings.PAYMENTS_TEST_MODE = True
    call_command("seed_demo", stdout=io.StringIO())
    salon = Salon.objects.get(slug="demo")
    with salon_scope(salon):
        checklist = setup_checklist(salon=salon)
    assert checklist.ready and checklist.test_mode
    assert checklist.rule is not None


def test_the_index_shows_the_owner_the_checklist(client, team_a):
    client.force_login(team_a.owner)
    page = client.get("/admin/").content.decode()
    assert "Setting up Bella Coiffure" in page
    assert "0 of 7 steps done." in page
    assert SETUP in page


def test_the_index_shows_no_checklist_to_a_manager(client, team_a):
    client.force_login(team_a.manager)
    assert "Setting up" not in client.get("/admin/").content.decode()


def test_the_demo_owner_sees_ready_on_the_index(client, settings):
    settings.PAYMENTS_TEST_MODE = True
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(get_user_model().objects.get(username="demo"))
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Ready" in page and "every step is done." in page
    own = client.get(SETUP).content.decode()
    assert "Test mode" in own and "Connect Stripe" not in own


def test_ready_is_set_in_french_typography(client, settings):
    """ "Prêt: toutes les étapes…": the colon stood outside the translated words."""
    settings.PAYMENTS_TEST_MODE = True
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(get_user_model().objects.get(username="demo"))
    for path in ("/admin/", SETUP):
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert "<strong>Prêt</strong>\u00a0: toutes les étapes sont faites." in page, path


def test_an_owner_connects_stripe(client, team_a, stripe_api):
    client.force_login(team_a.owner)
    page = client.get(f"{SETUP}?salon={team_a.salon.pk}").content.decode()
    assert "Connect Stripe" in page and "No Stripe account connected yet." in page

    response = client.post(CONNECT, {"salon": team_a.salon.pk})
    assert response.status_code == 302
    sent = {r["path"]: r for r in stripe_api.requests()}
    created = sent["/v1/accounts"]
    assert created["form"]["country"] == "FR"
    assert created["form"]["type"] == "express"
    assert created["form"]["business_profile[name]"] == "Bella Coiffure"
    assert created["idempotency_key"] == f"salon-{team_a.salon.pk}-connect-account"
    link = sent["/v1/account_links"]
    assert link["form"]["type"] == "account_onboarding"
    assert link["idempotency_key"]
    assert link["form"]["return_url"].endswith(f"{SETUP}?salon={team_a.salon.pk}&stripe=return")
    assert f"{CONNECT}?salon={team_a.salon.pk}" in link["form"]["refresh_url"]
    assert response["Location"].startswith(f"{stripe_api.url}/_standin/onboarding/")

    team_a.salon.refresh_from_db()
    account = team_a.salon.stripe_account
    assert account and account.startswith("acct_")
    assert not team_a.salon.stripe_charges_enabled
    page = client.get(f"{SETUP}?salon={team_a.salon.pk}").content.decode()
    assert f"Stripe account {account}: charges enabled: no; details submitted: no." in page
    assert _states(team_a.salon)["payments"] is False

    # The owner goes through Stripe's pages, which send them back to the admin.
    finished = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert finished.status_code == 302
    back = finished.headers["Location"].removeprefix("http://testserver")
    page = client.get(back).content.decode()
    assert f"Stripe account {account}: charges enabled: yes; details submitted: yes." in page
    assert any(r["path"] == f"/v1/accounts/{account}" for r in stripe_api.requests())
    team_a.salon.refresh_from_db()
    assert team_a.salon.stripe_charges_enabled and team_a.salon.stripe_details_submitted
    assert _states(team_a.salon)["payments"] is True

    # Connecting again makes a new link for the same account, no second account.
    again = client.post(CONNECT, {"salon": team_a.salon.pk})
    assert again.status_code == 302
    assert [r["path"] for r in stripe_api.requests()].count("/v1/accounts") == 1


def test_an_expired_link_is_made_anew_for_the_account(client, team_a, stripe_api):
    client.force_login(team_a.owner)
    client.post(CONNECT, {"salon": team_a.salon.pk})
    refreshed = client.get(f"{CONNECT}?salon={team_a.salon.pk}")
    assert refreshed["Location"].startswith(f"{stripe_api.url}/_standin/onboarding/")
    assert [r["path"] for r in stripe_api.requests()].count("/v1/accounts") == 1


def test_a_manager_cannot_connect_stripe(client, team_a, stripe_api):
    client.force_login(team_a.manager)
    page = client.get(f"{SETUP}?salon={team_a.salon.pk}").content.decode()
    assert "Connect Stripe" not in page
    assert client.post(CONNECT, {"salon": team_a.salon.pk}).status_code == 403
    assert not [r for r in stripe_api.requests() if r["path"].startswith("/v1/")]
    team_a.salon.refresh_from_db()
    assert team_a.salon.stripe_account is None


def test_another_salons_owner_cannot_connect_stripe(client, team_a, team_b, stripe_api):
    client.force_login(team_b.owner)
    assert client.post(CONNECT, {"salon": team_a.salon.pk}).status_code == 403
    assert client.get(f"{CONNECT}?salon={team_a.salon.pk}").status_code == 403
    assert not [r for r in stripe_api.requests() if r["path"].startswith("/v1/")]
    team_a.salon.refresh_from_db()
    assert team_a.salon.stripe_account is None


def test_another_salons_checklist_is_not_shown(client, team_a, team_b):
    client.force_login(team_b.owner)
    page = client.get(f"{SETUP}?salon={team_a.salon.pk}").content.decode()
    assert team_b.salon.name in page and team_a.salon.name not in page


def test_stripe_down_is_said_and_nothing_kept(client, team_a, stripe_api):
    client.force_login(team_a.owner)
    stripe_api.fail("500", 10)
    response = client.post(CONNECT, {"salon": team_a.salon.pk}, follow=True)
    assert "Stripe could not be reached" in response.content.decode()
    team_a.salon.refresh_from_db()
    assert team_a.salon.stripe_account is None


def test_the_account_updated_event_keeps_the_accounts_state(client, team_a, stripe_api, settings):
    Salon.objects.filter(pk=team_a.salon.pk).update(stripe_account="acct_1Bella")
    event = {
        "id": "evt_account_1",
        "type": "account.updated",
        "account": "acct_1Bella",
        "data": {
            "object": {
                "id": "acct_1Bella",
                "object": "account",
                "charges_enabled": True,
                "details_submitted": True,
            }
        },
    }
    payload = json.dumps(event).encode()
    signature = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
    # The same account's state, sent from another account: nothing changes.
    forged = json.dumps({**event, "id": "evt_forged", "account": "acct_Mallory"}).encode()
    answer = client.post(
        "/api/v1/stripe/webhook/",
        forged,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(forged, settings.STRIPE_WEBHOOK_SECRET),
    )
    assert answer.json()["outcome"] == "ignored"
    team_a.salon.refresh_from_db()
    assert not team_a.salon.stripe_charges_enabled
    for _ in range(2):
        answer = client.post(
            "/api/v1/stripe/webhook/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
        assert answer.status_code == 200
    assert answer.json()["outcome"] == "duplicate"
    team_a.salon.refresh_from_db()
    assert team_a.salon.stripe_charges_enabled and team_a.salon.stripe_details_submitted
    assert StripeEvent.objects.filter(event_id="evt_account_1", status="applied").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_demo_owner_sees_the_checklist_ready_in_a_browser(chromium, pages_server, settings):
    """Acceptance: the checklist reaches "ready" on the demo, in French and in English,
    at a desktop's size, axe-clean (the index and the checklist's own page)."""
    from playwright.sync_api import expect

    from ..browser.harness import DESKTOP, axe_violations

    settings.PAYMENTS_TEST_MODE = True
    call_command("seed_demo", stdout=io.StringIO())
    words = {
        "fr-FR": ("Mise en place de Atelier Démo", "Prêt", "Mode test", "Fait"),
        "en-GB": ("Setting up Atelier Démo", "Ready", "Test mode", "Done"),
    }
    for locale, (title, ready, test_mode, done) in words.items():
        context = chromium.new_context(viewport=DESKTOP, locale=locale, base_url=pages_server.url)
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            page.goto("/admin/login/?next=/admin/")
            page.fill("#id_username", "demo")
            page.fill("#id_password", "demo")
            page.click("input[type=submit], button[type=submit]")
            checklist = page.locator("section.setup-checklist")
            expect(checklist.get_by_role("heading", name=title)).to_be_visible()
            expect(checklist.locator(".setup-state strong")).to_have_text(ready)
            expect(checklist.locator(".setup-done")).to_have_text([done] * 7)
            assert axe_violations(page) == []
            checklist.locator(".setup-state a").click()
            expect(page.locator("tr#payments")).to_contain_text(test_mode)
            expect(page.locator(".setup-state strong")).to_have_text(ready)
            assert axe_violations(page) == []
        finally:
            context.close()
