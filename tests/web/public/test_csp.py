"""Under the Content-Security-Policy, the pages still work in a browser: the API docs
render, the admin's scripts run (an inline row is added), the booking page picks slots;
and the browser reports no refused script, frame or style."""

import pytest

from deposits.models import DepositPolicy
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.browser.harness import DESKTOP
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_pages_work_under_the_policy(chromium, pages_server, settings, team_a, catalogue_a):
    settings.PAYMENTS_TEST_MODE = True
    with salon_scope(team_a.salon):
        policy_set(salon=team_a.salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
        policy = DepositPolicy.objects.get()
    context = chromium.new_context(viewport=DESKTOP, locale="en-US", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        response = page.goto("/")
        assert "script-src 'self'" in response.headers["content-security-policy"]

        page.goto("/api/docs/")
        page.locator(".swagger-ui .info .title").wait_for()
        assert "Acompte API" in page.locator(".swagger-ui .info .title").inner_text()

        page.goto("/admin/login/")
        page.fill("#id_username", "bella-owner")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_load_state()
        page.goto(f"/admin/deposits/depositpolicy/{policy.pk}/change/")
        rows = page.locator("tr.dynamic-steps")
        assert rows.count() == 0
        page.locator(".add-row a").click()  # the admin's inlines.js adds the row
        assert rows.count() == 1

        page.goto("/bella/")
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert refused == []
