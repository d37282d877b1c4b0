"""Every page carries a Content-Security-Policy: scripts from the site and Stripe.js only,
Stripe's frames and API for the Payment Element; no page relies on an inline script."""

import re

import pytest

from tests.conftest import book, local
from tests.factories import CustomerFactory
from web.csp import content_security_policy

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split("; ")}


def test_every_kind_of_page_carries_the_policy(client, api, team_a, catalogue_a, monday):
    client.force_login(team_a.owner)
    answers = {
        path: client.get(path)
        for path in (
            "/",
            "/bella/",
            "/admin/",
            "/admin/login/",
            "/admin/tenants/salon/",
            "/api/docs/",
            "/desk/login/",
            "/no-such-page/",
        )
    }
    answers["api"] = api().get("/api/v1/salons/bella/")
    for path, response in answers.items():
        policy = _policy(response)
        assert policy["script-src"] == ["'self'", "https://js.stripe.com"], path
        assert policy["object-src"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path


def test_stripe_js_is_allowed_wherever_it_is_loaded_from(settings, client, team_a):
    settings.STRIPE_JS_URL = "http://127.0.0.1:12111/v3/"
    policy = _policy(client.get("/"))
    assert "http://127.0.0.1:12111" in policy["script-src"]
    assert "http://127.0.0.1:12111" in policy["frame-src"]
    assert "https://hooks.stripe.com" in policy["frame-src"]
    assert "https://api.stripe.com" in policy["connect-src"]
    assert content_security_policy("https://js.stripe.com/v3/") != content_security_policy(
        settings.STRIPE_JS_URL
    )


def test_a_form_may_lead_to_stripe_connect_and_nowhere_else(settings, client):
    """The setup checklist's "Connect Stripe" posts to the site, which sends the owner on
    to Stripe's onboarding: the browser holds that redirect to the form-action (it was
    refused: the owner stayed on the checklist, no account connected)."""
    assert _policy(client.get("/"))["form-action"] == ["'self'", "https://connect.stripe.com"]
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"  # a stand-in serves the links too
    assert _policy(client.get("/"))["form-action"] == [
        "'self'",
        "https://connect.stripe.com",
        "http://127.0.0.1:12111",
    ]


def _inline_scripts(html: str) -> list[str]:
    """Script elements that run code written in the page (JSON data blocks do not run)."""
    return [
        tag
        for tag in re.findall(r"<script\b[^>]*>", html)
        if "src=" not in tag and not re.search(r'type="application/(ld\+)?json"', tag)
    ]


def test_no_page_relies_on_an_inline_script(client, settings, team_a, catalogue_a, monday):
    settings.PAYMENTS_TEST_MODE = True
    customer = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, customer, local(catalogue_a.salon, 1, 10))
    for path in ("/", "/bella/", "/api/docs/", "/admin/login/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert _inline_scripts(response.content.decode()) == [], path
    client.force_login(team_a.owner)
    pages = [
        "/admin/",
        f"/admin/tenants/salon/{team_a.salon.pk}/change/",
        "/admin/tenants/membership/add/",
        "/admin/bookings/booking/",
        "/admin/deposits/depositpolicy/recovered/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _inline_scripts(response.content.decode()) == [], path
