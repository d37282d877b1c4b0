"""The widget on a salon's own site, in Debian's Chromium: a page served from another
site (127.0.0.1 on a port of its own, while the booking pages are on localhost) pastes the
widget's tag; the frame opens the booking page, takes its height from the page's
messages (and from nobody else's), and a client books and pays her deposit (test mode)
without leaving the frame, though the browser keeps the frame's cookies back. The
booking records it came through the widget; each page in the frame is axe-clean."""

import datetime as dt
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bookings.models import Booking, Source, Status
from deposits.models import Payment
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tenants.services import salon_update
from tests.browser.harness import DESKTOP, PHONE, axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

SALON_SITE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Bella Coiffure, le salon</title></head>
<body><h1>Bella Coiffure</h1><p>Réservez en ligne :</p>
<script src="{widget}" async></script>
<p id="after">Nos horaires…</p></body></html>
"""


@pytest.fixture
def salon_site(tmp_path: Path):
    """The salon's own site: a static page on 127.0.0.1, another site than the booking
    pages' localhost. Yields (its origin, a function writing its page)."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"

    def publish(html: str) -> str:
        (tmp_path / "index.html").write_text(html, encoding="utf-8")
        return f"{origin}/index.html"

    try:
        yield origin, publish
    finally:
        server.shutdown()
        server.server_close()


def _ahead(salon, days: int) -> dt.date:
    day = dt.datetime.now(salon.tz).date() + dt.timedelta(days=days)
    return day + dt.timedelta(days=1) if day.weekday() == 6 else day


def _frame_height(page) -> float:
    return page.evaluate(
        "() => document.querySelector('iframe[data-acompte-widget]').getBoundingClientRect().height"
    )


def _fits(page, frame) -> None:
    """The frame's height follows its page's, whatever that page is now."""
    page.wait_for_function(
        """(want) => {
            const f = document.querySelector('iframe[data-acompte-widget]');
            return Math.abs(f.getBoundingClientRect().height - want) <= 1;
        }""",
        arg=frame.evaluate(
            "() => Math.ceil(document.documentElement.getBoundingClientRect().height)"
        ),
    )


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_client_books_and_pays_inside_the_widget_on_the_salons_site(
    chromium, pages_server, settings, catalogue_a, salon_site, viewport
):
    settings.PAYMENTS_TEST_MODE = True
    salon = catalogue_a.salon
    origin, publish = salon_site
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
    salon_update(salon=salon, embed_domains=origin)
    booking_site = pages_server.url.replace("127.0.0.1", "localhost")
    assert "localhost" in booking_site
    url = publish(SALON_SITE.format(widget=f"{booking_site}/bella/widget.js"))

    context = chromium.new_context(
        viewport=PHONE if viewport == "phone" else DESKTOP, locale="fr-FR"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Refused" in m.text else None)
    posts: list[dict[str, str]] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.all_headers()) if r.method == "POST" and "/bella/" in r.url else None
        ),
    )
    try:
        page.goto(url)
        page.locator("iframe[data-acompte-widget]").wait_for()
        # The frame sits where the tag was, on the salon's page.
        assert (
            page.evaluate(
                "() => document.querySelector('iframe[data-acompte-widget]').nextElementSibling.id"
            )
            == "after"
        )
        frame = page.frame(url=re.compile(r"/bella/book/\?source=widget$"))
        assert frame is not None
        frame.wait_for_load_state()
        frame.locator("#step-services").wait_for()
        _fits(page, frame)
        assert axe_violations(frame) == []

        # Only the booking page's own messages resize it: not the salon's page's.
        before = _frame_height(page)
        page.evaluate("() => window.postMessage({type: 'acompte:height', height: 50}, '*')")
        page.wait_for_timeout(200)
        assert _frame_height(page) == before

        # Through the steps, in the frame: the cut, Alice, 10:00 in two days, her details.
        day = _ahead(salon, 2)
        frame.get_by_label("Coupe", exact=True).check()
        frame.locator("#next").click()
        frame.locator("#step-staff").wait_for()
        frame.locator(f"#staff-{catalogue_a.alice.pk}").check()
        frame.locator("#next").click()
        frame.locator("#step-time").wait_for()
        link = frame.locator(f'a.day[data-day="{day.isoformat()}"]')
        if link.count() == 0:
            frame.locator("#next-week").click()
            link.wait_for()
        link.click()
        frame.locator(f'a.day[data-day="{day.isoformat()}"][aria-current]').wait_for()
        frame.locator('button.time[value*="T10:00"]').click()
        frame.locator("#step-details").wait_for()
        frame.fill("#id_name", "Léa Martin")
        frame.fill("#id_phone", "06 12 34 56 78")
        assert frame.locator("input[name=source]").input_value() == "widget"
        _fits(page, frame)
        assert axe_violations(frame) == []
        frame.locator("#next").click()
        frame.locator("#step-recap").wait_for()
        _fits(page, frame)
        assert axe_violations(frame) == []

        frame.locator("#book").click()
        frame.wait_for_url(re.compile(r"/bella/booking/[^/]+/pay/$"))
        assert "MODE TEST" in frame.content()
        _fits(page, frame)
        assert axe_violations(frame) == []
        frame.locator("#pay").click()
        frame.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
        assert frame.locator("h1").inner_text() == "Votre rendez-vous est confirmé"
        # Managing the booking may not be framed: it opens in a tab of its own. The
        # language switch, which needs a cookie, is not offered in the frame.
        assert frame.locator("#manage-link").get_attribute("target") == "_blank"
        assert frame.locator("nav.lang").is_hidden()
        _fits(page, frame)
        assert axe_violations(frame) == []
        # Still on the salon's site, the booking made in its frame.
        assert page.url == url
    finally:
        context.close()

    with salon_scope(salon):
        booking = Booking.objects.get()
        payment = Payment.objects.get(booking=booking)
    assert (booking.status, booking.source) == (Status.CONFIRMED, Source.WIDGET)
    assert (payment.amount, payment.kind, payment.status) == (1500, "deposit", "succeeded")
    # The frame's forms were posted without the CSRF cookie, which the browser keeps back
    # from a frame of another site: the site's own origin is what let them through.
    assert len(posts) == 3  # the details, the recap's booking, the payment
    assert all("csrftoken" not in headers.get("cookie", "") for headers in posts)
    assert all(headers["origin"] == booking_site for headers in posts)
    assert errors == [] and refused == []


def test_a_site_the_salon_does_not_list_cannot_show_the_widget(
    chromium, pages_server, catalogue_a, salon_site
):
    _origin, publish = salon_site  # not listed in the salon's sites
    booking_site = pages_server.url.replace("127.0.0.1", "localhost")
    url = publish(SALON_SITE.format(widget=f"{booking_site}/bella/widget.js"))
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else None)
    try:
        page.goto(url)
        page.locator("iframe[data-acompte-widget]").wait_for()
        page.wait_for_timeout(1000)
        frame = page.frame(url=re.compile(r"/bella/book/"))
        shown = frame is not None and frame.locator("#booking-form").count() > 0
        assert not shown
        assert refused, "the browser says it refused to frame the page"
    finally:
        context.close()
