"""Channels that keep the deposit: every door records where a booking came from (the
booking page with its `?source=`, the widget, Google's, Instagram's and Facebook's links,
the API, the desk), and every one asks the same deposit; the widget's script and the
frame it opens, allowed only on the sites the salon lists; robots.txt and the favicon.
"""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from bookings.models import Booking, Source
from deposits.models import Payment
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tenants.services import salon_update
from tests.conftest import local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/salons/bella/bookings/"


@pytest.fixture
def deposit(settings, team_a):
    """A deposit of 20 % of the price, the same whoever books: no ramp, no history."""
    settings.PAYMENTS_TEST_MODE = True
    with salon_scope(team_a.salon):
        policy_set(salon=team_a.salon, rule={"kind": "percent", "value": 20}, ramp=[])


def _form(catalogue, start: dt.datetime, **changes):
    return {
        "service": catalogue.cut.pk,
        "staff": catalogue.alice.pk,
        "start": start.isoformat(),
        "name": "Léa Martin",
        "phone": "06 12 34 56 78",
        "email": "",
        "notes": "",
        "payment_option": "deposit",
        "action": "book",
        **changes,
    }


def _due(salon, booking: Booking) -> int:
    with salon_scope(salon):
        return sum(p.amount for p in Payment.objects.filter(booking=booking))


def _page_booking(client, catalogue, start, source: str | None) -> Booking:
    # The details step, reached through the steps as the client does (the time chosen).
    params = {
        "services": catalogue.cut.pk,
        "order": catalogue.cut.pk,
        "staff": catalogue.alice.pk,
        "start": start.isoformat(),
        "step": "details",
    }
    page = client.get("/bella/book/", {**params, **({"source": source} if source else {})})
    assert page.status_code == 200
    sent = re.search(r'<input type="hidden" name="source" value="([^"]*)">', page.content.decode())
    assert sent is not None
    answer = client.post("/bella/book/", _form(catalogue, start, source=sent.group(1)))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    with salon_scope(catalogue.salon):
        return Booking.objects.filter(start=start).latest("pk")


# Every door records its source ----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "recorded"),
    [
        (None, "web"),
        ("widget", "widget"),
        ("google", "google"),
        ("instagram", "instagram"),
        ("facebook", "facebook"),
        # Not the page's to claim: the API's and the desk's are their own doors'.
        ("api", "web"),
        ("phone", "web"),
        ("<script>", "web"),
    ],
)
def test_the_booking_page_records_the_channel_it_was_opened_from(
    client, catalogue_a, deposit, monday, query, recorded
):
    booking = _page_booking(client, catalogue_a, local(catalogue_a.salon, 2, 10), query)
    assert booking.source == recorded


def test_the_channel_survives_the_page_redrawing_itself(client, catalogue_a, deposit, monday):
    start = local(catalogue_a.salon, 2, 10)
    cut = catalogue_a.cut.pk
    first = client.get("/bella/book/", {"service": cut, "source": "instagram"})
    assert '<input type="hidden" name="source" value="instagram">' in first.content.decode()
    times = client.get(
        "/bella/book/",
        {"services": cut, "order": cut, "staff": "any", "step": "time", "source": "instagram"},
    )
    assert "source=instagram" in times.content.decode()  # each day's and time's link
    client.post("/bella/book/", _form(catalogue_a, start, source="instagram"))
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get(start=start).source == Source.INSTAGRAM


def test_the_api_records_api_whatever_it_is_sent(api, catalogue_a, deposit, monday):
    answer = api().post(
        BOOK,
        {
            "service": catalogue_a.cut.pk,
            "start": local(catalogue_a.salon, 2, 10).isoformat(),
            "staff": catalogue_a.alice.pk,
            "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
            "source": "google",  # not in the contract: ignored
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get(pk=answer.json()["id"]).source == Source.API


def test_the_desk_records_phone_and_shows_each_source(client, team_a, catalogue_a, deposit, monday):
    with salon_scope(team_a.salon):
        jeanne = CustomerFactory(salon=team_a.salon, name="Jeanne Martin", phone="+33612345678")
    start = local(team_a.salon, 1, 10)
    client.force_login(team_a.staff)
    answer = client.post(
        "/desk/bella/book/",
        {
            "step": "book",
            "customer": str(jeanne.pk),
            "service": str(catalogue_a.cut.pk),
            "staff": str(catalogue_a.alice.pk),
            "day": start.date().isoformat(),
            "start": start.astimezone(dt.UTC).isoformat(),
            "deposit_handling": "paid_at_desk",
            "waiver_reason": "",
            "send_via": "",
            "notes": "",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    with salon_scope(team_a.salon):
        booking = Booking.objects.get()
    assert booking.source == Source.PHONE
    detail = client.get(f"/desk/bella/bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert re.search(r'id="booking-source">Phone or desk<', detail.content.decode())
    widget = _page_booking(Client(), catalogue_a, local(team_a.salon, 2, 10), "widget")
    detail = client.get(f"/desk/bella/bookings/{widget.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert re.search(
        r"id=\"booking-source\">Widget on the salon&#x27;s site<", detail.content.decode()
    )


def test_the_admin_shows_the_source(client, team_a, catalogue_a, deposit, monday):
    booking = _page_booking(client, catalogue_a, local(team_a.salon, 2, 10), "facebook")
    client.force_login(team_a.owner)
    page = client.get(f"/admin/bookings/booking/{booking.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert re.search(r"Source:</label>\s*<div class=\"readonly\">Facebook<", page.content.decode())


# Every channel asks the same deposit ------------------------------------------------------


def test_every_channel_asks_the_same_deposit_for_the_same_service_and_time(
    api, client, team_a, catalogue_a, deposit, monday
):
    """The same cut at 10:00 on the same day, booked through each door in turn (each
    booking cancelled by the salon before the next, which frees the time)."""
    start = local(team_a.salon, 2, 10)
    asked: dict[str, int] = {}
    staff_api = api(team_a.owner)

    def free_the_time(booking: Booking) -> None:
        answer = staff_api.post(
            f"/api/v1/salons/bella/backoffice/bookings/{booking.pk}/cancel/",
            {"reason": "test"},
            format="json",
        )
        assert answer.status_code == 200, answer.json()

    for source in ("web", "widget", "google", "instagram", "facebook"):
        booking = _page_booking(Client(), catalogue_a, start, source)
        asked[booking.source] = _due(team_a.salon, booking)
        free_the_time(booking)
    answer = api().post(
        BOOK,
        {
            "service": catalogue_a.cut.pk,
            "start": start.isoformat(),
            "staff": catalogue_a.alice.pk,
            "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    with salon_scope(team_a.salon):
        booking = Booking.objects.get(pk=answer.json()["id"])
    asked[booking.source] = answer.json()["deposit_amount"]
    free_the_time(booking)
    phone = staff_api.post(
        "/api/v1/salons/bella/backoffice/phone-bookings/",
        {
            "service": catalogue_a.cut.pk,
            "start": start.isoformat(),
            "staff": catalogue_a.alice.pk,
            "customer": {"name": "Marcel Roux", "phone": "06 43 55 66 77"},
            "deposit_handling": "payment_link",
        },
        format="json",
    )
    assert phone.status_code == 201, phone.json()
    asked["phone"] = phone.json()["deposit_amount"]
    price = catalogue_a.cut.price
    assert asked == dict.fromkeys(
        ("web", "widget", "google", "instagram", "facebook", "api", "phone"), price // 5
    )


# The widget and the frame it opens ------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split("; ")}


def test_the_widget_script_opens_the_booking_page_in_a_frame(client, team_a, catalogue_a):
    answer = client.get("/bella/widget.js")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/javascript; charset=utf-8"
    assert answer["Cross-Origin-Resource-Policy"] == "cross-origin"
    script = answer.content.decode()
    assert 'frame.src = "http://testserver/bella/book/?source\\u003Dwidget"' in script
    assert 'var origin = "http://testserver"' in script
    # Only the booking page's height messages, from its origin and its frame, are heard.
    assert "event.origin !== origin || event.source !== frame.contentWindow" in script
    assert 'data.type !== "acompte:height"' in script
    assert client.get("/nowhere/widget.js").status_code == 404


def test_the_salons_own_sites_may_frame_its_booking_and_pay_pages_only(
    client, team_a, team_b, catalogue_a, deposit, monday
):
    salon_update(
        salon=team_a.salon, embed_domains="www.bella.example\nhttps://*.bella-coiffure.example/"
    )
    listed = ["'self'", "https://www.bella.example", "https://*.bella-coiffure.example"]
    booking = _page_booking(client, catalogue_a, local(team_a.salon, 2, 10), "widget")
    pay = client.post("/bella/book/", _form(catalogue_a, local(team_a.salon, 2, 11)))
    for path in ("/bella/book/", pay["Location"], "/bella/verify/"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert _policy(answer)["frame-ancestors"] == listed, path
        assert "X-Frame-Options" not in answer, path
    # Another salon's pages: its own sites only (none listed: this site).
    other = client.get("/rival/book/")
    assert _policy(other)["frame-ancestors"] == ["'self'"]
    assert other["X-Frame-Options"] == "SAMEORIGIN"
    # Everything else: nobody.
    with salon_scope(team_a.salon):
        from bookings.services import booking_manage_token

        token = booking_manage_token(booking)
    for path in ("/", "/bella/", f"/manage/{token}/", "/desk/login/", "/admin/login/"):
        answer = client.get(path)
        assert _policy(answer)["frame-ancestors"] == ["'none'"], path
        assert answer["X-Frame-Options"] == "DENY", path


@pytest.mark.parametrize(
    "wrong",
    [
        "https://bella.example; script-src *",
        "https://bella.example/path",
        "javascript:alert(1)",
        "https://bella example",
        "'unsafe-inline'",
        "*",
    ],
)
def test_only_plain_sites_may_be_listed(team_a, wrong):
    with pytest.raises(ValidationError):
        salon_update(salon=team_a.salon, embed_domains=f"https://ok.example\n{wrong}")


def test_a_framed_booking_posts_without_the_csrf_cookie_from_its_own_origin_only(
    catalogue_a, deposit, monday
):
    """Inside a third-party frame the browser keeps the CSRF cookie back: the form is
    accepted when the browser says it was posted by the site's own page, and refused
    when posted from anywhere else."""
    browser = Client(enforce_csrf_checks=True)
    start = local(catalogue_a.salon, 2, 10)
    form = _form(catalogue_a, start, source="widget")
    forged = browser.post(
        "/bella/book/",
        form,
        HTTP_ORIGIN="https://evil.example",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert forged.status_code == 403
    lying = browser.post(
        "/bella/book/", form, HTTP_ORIGIN="http://testserver", HTTP_SEC_FETCH_SITE="cross-site"
    )
    assert lying.status_code == 403
    assert browser.post("/bella/book/", form).status_code == 403  # no origin, no token
    framed = browser.post(
        "/bella/book/", form, HTTP_ORIGIN="http://testserver", HTTP_SEC_FETCH_SITE="same-origin"
    )
    assert framed.status_code == 302, framed.content.decode()[:1000]
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get(start=start).source == Source.WIDGET
    # The other pages keep Django's check: the same request is refused there.
    assert (
        browser.post(
            "/i18n/setlang/",
            {"language": "en"},
            HTTP_ORIGIN="http://testserver",
            HTTP_SEC_FETCH_SITE="same-origin",
        ).status_code
        == 403
    )


def test_a_post_carrying_the_cookie_still_has_its_token_checked(catalogue_a, deposit, monday):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/bella/book/")  # sets the CSRF cookie
    answer = browser.post(
        "/bella/book/",
        {**_form(catalogue_a, local(catalogue_a.salon, 2, 10)), "csrfmiddlewaretoken": "x" * 32},
        HTTP_ORIGIN="http://testserver",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert answer.status_code == 403


def test_the_salon_admin_lists_the_share_links_and_the_widget(client, team_a, settings):
    client.force_login(team_a.owner)
    page = client.get(f"/admin/tenants/salon/{team_a.salon.pk}/change/").content.decode()
    site = settings.SITE_URL
    for channel in ("google", "instagram", "facebook"):
        assert f'value="{site}/bella/book/?source={channel}"' in page
    assert f"&lt;script src=&quot;{site}/bella/widget.js&quot; async&gt;&lt;/script&gt;" in page
    assert 'name="embed_domains"' in page


# What crawlers and browsers ask the site for ----------------------------------------------


def test_robots_txt_lets_crawlers_read_salons_and_keeps_them_out_of_private_pages(client):
    answer = client.get("/robots.txt")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/plain; charset=utf-8"
    lines = answer.content.decode().splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    for private in ("/pay/", "/manage/", "/me/", "/desk/", "/admin/", "/api/"):
        assert f"Disallow: {private}" in lines


def test_favicon_ico_is_the_sites_icon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    assert re.fullmatch(r"/static/favicon(\.[0-9a-f]+)?\.svg", answer["Location"])
