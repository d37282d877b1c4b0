"""The salon's page, `/<salon>/`: who the salon is and what it offers, in French and
English; what search engines (schema.org) and social networks (Open Graph) read of it;
the pictures resized on upload; another salon's categories and staff never on it; the
error pages in the salon's colours with its phone; `noindex` on the client's private pages.
"""

import datetime as dt
import html
import json
import re
from io import BytesIO

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import re_path
from django.views.static import serve
from django_ratelimit.exceptions import Ratelimited
from PIL import Image

from bookings.availability import WeeklyRange, opening_hours
from bookings.models import StaffMember
from bookings.services import (
    booking_manage_token,
    catalogue_service_save,
    service_category_save,
    staff_hours_set,
    staff_save,
)
from config.urls import urlpatterns as project_urls
from core.images import COVER, LOGO, image_fit
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tenants.services import salon_update
from tests.conftest import Catalogue, book, local
from tests.factories import CustomerFactory
from web.errors import error_page, permission_denied

pytestmark = pytest.mark.django_db

ADDRESS = "12 rue des Lilas, 75011 Paris"


def _picture(width: int, height: int, fmt: str = "JPEG", name: str = "photo.jpg"):
    out = BytesIO()
    Image.new("RGB", (width, height), (180, 90, 120)).save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _dress(catalogue: Catalogue, *, kind: str, phone: str, address: str, word: str) -> None:
    """A salon's page filled in: description, address, phone, categories, bios, pictures;
    `word` marks what is this salon's own."""
    salon = catalogue.salon
    salon_update(
        salon=salon,
        kind=kind,
        phone=phone,
        address=address,
        description=f"Un salon {word} au cœur du quartier.",
        logo=_picture(600, 400),
        cover=_picture(2400, 1000),
    )
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
        cuts = service_category_save(salon=salon, category=None, name=f"Coupes {word}", position=1)
        colours = service_category_save(
            salon=salon, category=None, name=f"Couleurs {word}", position=0
        )
        catalogue_service_save(salon=salon, service=catalogue.cut, category=cuts)
        catalogue_service_save(salon=salon, service=catalogue.colour, category=colours)
        staff_save(
            salon=salon,
            staff=catalogue.alice,
            bio=f"Coloriste {word}, dix ans de métier.",
            photo=_picture(800, 1000),
        )
        staff_save(salon=salon, staff=catalogue.bob, bio=f"Barbier {word}.")


@pytest.fixture
def bella(media, catalogue_a, monday) -> Catalogue:
    _dress(catalogue_a, kind="hair", phone="+33142000000", address=ADDRESS, word="Bella")
    return catalogue_a


@pytest.fixture
def rival(media, catalogue_b, monday) -> Catalogue:
    _dress(
        catalogue_b,
        kind="beauty",
        phone="+14165550100",
        address="1 King St W, Toronto",
        word="Rival",
    )
    return catalogue_b


def _text(answer) -> str:
    return re.sub(r"[ \t\r\n]+", " ", answer.content.decode())


def _json_ld(page: str) -> dict:
    (found,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(found)


def _meta(page: str, attribute: str, name: str) -> str:
    found = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


# The page, in French and in English -------------------------------------------------------


def test_the_page_shows_the_salon_in_french(client, bella):
    page = client.get("/bella/", HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200 and page["Content-Language"] == "fr"
    text = _text(page)
    salon = bella.salon
    assert "<h1>Bella Coiffure</h1>" in text
    assert "Un salon Bella au cœur du quartier." in text
    assert f'src="{salon.logo.url}"' in text and f'src="{salon.cover.url}"' in text
    # The address, on a map and with the way there (links, no map script).
    assert ADDRESS in text
    assert 'href="https://www.openstreetmap.org/search?query=12+rue+des+Lilas%2C+75011+Paris"' in (
        text
    )
    assert (
        'href="https://www.google.com/maps/dir/?api=1&amp;destination=12%20rue%20des%20Lilas'
        '%2C%2075011%20Paris"' in text
    )
    assert "Itinéraire" in text and "Voir sur la carte" in text
    # The phone to call, written the French way, dialled in full.
    assert '<a href="tel:+33142000000" id="salon-phone">01 42 00 00 00</a>' in text
    # Hours of the staff who take bookings, Monday to Sunday, in French.
    hours = re.search(r'<table class="hours">(.*?)</table>', text).group(1)
    rows = re.findall(r'<th scope="row">(\w+)</th><td>([^<]*)</td>', hours)
    assert rows == [
        *[(day, "09:00\u201319:00") for day in ("Lundi", "Mardi", "Mercredi", "Jeudi")],
        ("Vendredi", "09:00\u201319:00"),
        ("Samedi", "09:00\u201319:00"),
        ("Dimanche", "Fermé"),
    ]
    # The team, with photos and bios.
    assert "Coloriste Bella, dix ans de métier." in text and "Barbier Bella." in text
    with salon_scope(salon):
        photo = StaffMember.objects.get(pk=bella.alice.pk).photo
    assert f'src="{photo.url}"' in text
    # The services under their categories, in the salon's order; price, length, deposit.
    assert text.index("Couleurs Bella") < text.index("Coupes Bella")
    cut = text[text.index(f'id="service-{bella.cut.pk}"') :]
    cut = cut[: cut.index("</li>")]
    assert "45 min" in cut and "60,00\u00a0€" in cut
    assert re.search("acompte aujourd\u2019hui[ \u00a0]: 15,00\u00a0€", cut)
    assert f'href="/bella/book/?service={bella.cut.pk}"' in cut
    assert re.search(r">Réserver<span class=\"vh\"> Coupe</span></a>", cut)


def test_the_page_shows_the_salon_in_english(client, bella):
    text = _text(client.get("/bella/", HTTP_ACCEPT_LANGUAGE="en"))
    hours = re.search(r'<table class="hours">(.*?)</table>', text).group(1)
    assert '<th scope="row">Monday</th><td>9:00\u202fAM\u20137:00\u202fPM</td>' in hours
    assert '<th scope="row">Sunday</th><td>Closed</td>' in hours
    colour = text[text.index(f'id="service-{bella.colour.pk}"') :]
    colour = colour[: colour.index("</li>")]
    assert "1 h" in colour and "€90.00" in colour and "deposit today: €15.00" in colour
    assert "Directions" in text and "See on the map" in text and "Opening hours" in text
    assert ">Book<span" in colour


def test_the_deposit_shown_is_the_apis_deposit_today(client, api, bella):
    answer = api().get("/api/v1/salons/bella/services/").json()
    text = _text(client.get("/bella/", HTTP_ACCEPT_LANGUAGE="en"))
    for service in answer:
        row = text[text.index(f'id="service-{service["id"]}"') :]
        row = row[: row.index("</li>")]
        assert f"deposit today: €{service['deposit_today'] / 100:.2f}" in row


def test_split_days_and_overlapping_shifts_make_the_opening_hours():
    ranges = [
        WeeklyRange(0, dt.time(9), dt.time(12)),
        WeeklyRange(0, dt.time(11), dt.time(13)),
        WeeklyRange(0, dt.time(14), dt.time(19)),
        WeeklyRange(2, dt.time(10), dt.time(18)),
        WeeklyRange(2, dt.time(18), dt.time(20)),
    ]
    assert opening_hours(ranges) == {
        0: [(dt.time(9), dt.time(13)), (dt.time(14), dt.time(19))],
        2: [(dt.time(10), dt.time(20))],
    }


def test_staff_who_take_no_bookings_are_left_off(client, bella):
    with salon_scope(bella.salon):
        staff_save(salon=bella.salon, staff=bella.bob, active=False)
        idle = staff_save(salon=bella.salon, staff=None, name="Nina", bio="Pas encore là.")
        staff_hours_set(
            staff=idle, ranges=[{"weekday": 6, "start": dt.time(9), "end": dt.time(12)}]
        )
    text = _text(client.get("/bella/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Barbier Bella." not in text and "Pas encore là." not in text
    assert '<th scope="row">Dimanche</th><td>Fermé</td>' in text


# For search engines and social networks ----------------------------------------------------


def test_structured_data_describe_the_salon_and_its_hours(client, bella, settings):
    settings.SITE_URL = "https://acompte.example"
    page = client.get("/bella/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    data = _json_ld(page)
    assert data["@context"] == "https://schema.org" and data["@type"] == "HairSalon"
    assert data["name"] == "Bella Coiffure"
    assert data["url"] == "https://acompte.example/bella/"
    assert data["telephone"] == "+33142000000"
    assert data["image"] == f"https://acompte.example{bella.salon.cover.url}"
    assert data["address"] == {
        "@type": "PostalAddress",
        "addressCountry": "FR",
        "postalCode": "75011",
        "addressLocality": "Paris",
        "streetAddress": "12 rue des Lilas",
    }
    assert data["priceRange"] == "60,00\u00a0€\u201390,00\u00a0€"
    assert data["description"] == "Un salon Bella au cœur du quartier."
    # The hours, as the page shows them: Monday to Saturday, 9 to 7.
    days = [
        "https://schema.org/Monday",
        "https://schema.org/Tuesday",
        "https://schema.org/Wednesday",
        "https://schema.org/Thursday",
        "https://schema.org/Friday",
        "https://schema.org/Saturday",
    ]
    assert data["openingHoursSpecification"] == [
        {"@type": "OpeningHoursSpecification", "dayOfWeek": d, "opens": "09:00", "closes": "19:00"}
        for d in days
    ]


def test_a_beauty_salon_is_one_for_search_engines(client, bella, rival):
    data = _json_ld(client.get("/rival/").content.decode())
    assert data["@type"] == "BeautySalon"
    assert data["address"]["addressCountry"] == "CA"
    # A Toronto number on a Canadian salon's page is written as Canadians write it.
    assert ">(416) 555-0100</a>" in client.get("/rival/").content.decode()


def test_the_json_in_the_page_cannot_close_its_script(client, bella):
    salon_update(salon=bella.salon, description="Fin </script><script>alert(1)</script>")
    page = client.get("/bella/").content.decode()
    assert "</script><script>alert(1)" not in page
    assert _json_ld(page)["description"] == "Fin </script><script>alert(1)</script>"


def test_open_graph_tags_meta_description_and_canonical_link(client, bella, settings):
    settings.SITE_URL = "https://acompte.example"
    page = client.get("/bella/?utm_source=instagram", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _meta(page, "name", "description") == "Un salon Bella au cœur du quartier."
    assert _meta(page, "property", "og:title") == "Bella Coiffure"
    assert _meta(page, "property", "og:description") == "Un salon Bella au cœur du quartier."
    assert _meta(page, "property", "og:url") == "https://acompte.example/bella/"
    assert _meta(page, "property", "og:image") == (
        f"https://acompte.example{bella.salon.cover.url}"
    )
    assert _meta(page, "property", "og:type") == "website"
    assert '<link rel="canonical" href="https://acompte.example/bella/">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert re.search(r'<link rel="icon" href="[^"]*favicon[^"]*\.svg" type="image/svg\+xml">', page)


def test_a_salon_without_description_still_describes_itself(client, catalogue_a, monday):
    page = client.get("/bella/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert _meta(page, "name", "description").startswith("Réservez en ligne chez Bella Coiffure")
    assert "og:image" not in page, re.findall(r"<meta[^>]*og:image[^>]*>", page)
    assert "Voir sur la carte" not in page and "<address>" not in page
    assert 'id="salon-phone"' not in page and 'href="tel:' not in page


# The pictures ------------------------------------------------------------------------------


def _size(field) -> tuple[int, int, str | None]:
    with field.open("rb") as stored, Image.open(stored) as picture:
        return picture.width, picture.height, picture.format


def test_pictures_are_resized_and_stored_as_webp(bella):
    salon = bella.salon
    salon.refresh_from_db()
    assert _size(salon.logo) == (256, 256, "WEBP")  # 600x400, cropped square, scaled
    assert _size(salon.cover) == (1600, 667, "WEBP")  # 2400x1000, scaled to 1600 wide
    assert salon.logo.name.startswith(f"salons/{salon.pk}/") and salon.logo.name.endswith(".webp")
    with salon_scope(salon):
        alice = StaffMember.objects.get(pk=bella.alice.pk)
    assert _size(alice.photo) == (400, 400, "WEBP")


def test_a_small_picture_is_not_enlarged_and_a_kept_one_not_redone(bella):
    salon = bella.salon
    salon.refresh_from_db()
    before = salon.cover.name
    salon_update(salon=salon, cover=salon.cover, name="Bella Coiffure & Co")
    assert salon.cover.name == before
    fitted = image_fit(_picture(120, 80, "PNG", "small.png"), fit=COVER, name="cover")
    assert Image.open(fitted).size == (120, 80)


def test_a_file_that_is_no_picture_is_refused(bella):
    with pytest.raises(ValidationError):
        salon_update(
            salon=bella.salon, logo=SimpleUploadedFile("logo.png", b"not a picture at all")
        )
    with pytest.raises(ValidationError):
        image_fit(BytesIO(b"GIF89a broken"), fit=LOGO, name="logo")


def test_the_owner_uploads_a_logo_in_the_admin_and_it_is_resized(client, bella, team_a):
    client.force_login(team_a.owner)
    salon = bella.salon
    change = f"/admin/tenants/salon/{salon.pk}/change/"
    form = client.get(change, HTTP_ACCEPT_LANGUAGE="fr")
    text = form.content.decode()
    assert 'name="logo"' in text and 'name="cover"' in text and 'name="description"' in text
    assert "Photo de couverture" in text
    salon.refresh_from_db()
    data = {
        "name": salon.name,
        "timezone": salon.timezone,
        "currency": salon.currency,
        "country": salon.country,
        "phone": "+33142000000",
        "email": "",
        "address": ADDRESS,
        "kind": "beauty",
        "description": "Nouvelle description.",
        "languages": '["fr", "en"]',
        "slot_step_minutes": 15,
        "min_notice_minutes": 60,
        "max_advance_days": 365,
        "max_gap_minutes": 0,
        "reminder_offsets_hours": "[24, 2]",
        "quiet_hours": '{"start": "21:00", "end": "08:00"}',
        "stripe_account": "",
        "waitlist_mode": "first_in_line",
        "offer_minutes": 30,
        "logo": _picture(1000, 1000, "PNG", "logo.png"),
    }
    answer = client.post(change, data)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    salon.refresh_from_db()
    assert salon.description == "Nouvelle description." and salon.kind == "beauty"
    assert _size(salon.logo) == (256, 256, "WEBP")


def test_the_owner_writes_the_description_and_bios_through_the_api(api, bella, team_a):
    owner = api(team_a.owner)
    changed = owner.patch(
        "/api/v1/salons/bella/backoffice/settings/",
        {"description": "Salon de quartier.", "kind": "beauty"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["description"] == "Salon de quartier."
    assert changed.json()["kind"] == "beauty"
    refused = owner.patch(
        "/api/v1/salons/bella/backoffice/settings/", {"kind": "spa"}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    bio = owner.patch(
        f"/api/v1/salons/bella/backoffice/staff/{bella.bob.pk}/",
        {"bio": "Barbier depuis 2010."},
        format="json",
    )
    assert bio.status_code == 200 and bio.json()["bio"] == "Barbier depuis 2010."
    # A manager reads the settings but does not change them.
    manager = api(team_a.manager)
    assert (
        manager.patch(
            "/api/v1/salons/bella/backoffice/settings/", {"description": "x"}, format="json"
        ).status_code
        == 403
    )


# Isolation ---------------------------------------------------------------------------------


def test_a_salon_never_shows_another_salons_categories_or_staff(client, bella, rival):
    ours = _text(client.get("/bella/", HTTP_ACCEPT_LANGUAGE="fr"))
    theirs = _text(client.get("/rival/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Coupes Bella" in ours and "Coloriste Bella" in ours
    assert "Rival" not in ours
    assert "Coupes Rival" in theirs and "Coloriste Rival" in theirs
    assert "Bella" not in theirs


def test_a_category_of_another_salon_is_refused(bella, rival):
    with salon_scope(rival.salon):
        their = service_category_save(salon=rival.salon, category=None, name="Barbe", position=3)
    with salon_scope(bella.salon), pytest.raises(ValidationError) as refused:
        catalogue_service_save(salon=bella.salon, service=bella.cut, category=their)
    assert "category" in refused.value.message_dict


# Error pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "call"),
    [
        ("fr", "Cette page n\u2019existe pas", "Pour réserver ou poser une question, appelez"),
        ("en", "This page does not exist", "To book or ask a question, call"),
    ],
)
def test_a_missing_page_of_a_salon_has_its_name_and_phone(client, bella, language, title, call):
    answer = client.get("/bella/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 404
    text = _text(answer)
    assert f"<h1>{title}</h1>" in text
    assert f"{call} Bella Coiffure" in text
    assert 'href="tel:+33142000000" id="error-phone">01 42 00 00 00</a>' in text
    assert 'href="/bella/"' in text and "/static/public/pages." in text
    assert '<meta name="viewport"' in text and '<meta name="robots" content="noindex">' in text
    assert f'<html lang="{language}">' in text


def test_a_missing_page_without_a_salon_is_the_products(client, bella):
    for path in ("/no-such-salon/", "/no-such-salon/book/", "/desk/nothing-here/"):
        answer = client.get(path, HTTP_ACCEPT_LANGUAGE="fr")
        assert answer.status_code == 404, path
        text = _text(answer)
        assert "<h1>Cette page n\u2019existe pas</h1>" in text
        assert "Bella" not in text and "tel:" not in text
        assert "/static/css/site." in text and "/static/public/pages." not in text


def test_a_booking_link_that_no_longer_works_names_the_salon(client, bella):
    answer = client.get("/bella/booking/forged-token/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 404
    text = _text(answer)
    assert "This link is no longer valid" in text
    assert 'href="tel:+33142000000"' in text and "Bella Coiffure" in text


@pytest.mark.parametrize(
    ("status", "english", "french"),
    [
        (400, "This request could not be read", "Cette demande n\u2019a pas pu être lue"),
        (403, "This page is not open to you", "Cette page ne vous est pas ouverte"),
        (410, "This page is no longer available", "Cette page n\u2019est plus disponible"),
        (429, "Too many attempts", "Trop de tentatives"),
        (500, "Something went wrong on our side", "Un problème est survenu de notre côté"),
    ],
)
def test_every_error_page_is_styled_translated_and_names_the_salon(bella, status, english, french):
    from django.utils import translation

    request = RequestFactory().get("/bella/book/")
    request.salon = bella.salon
    for language, title in (("en", english), ("fr", french)):
        with translation.override(language):
            answer = error_page(request, status)
        text = _text(answer)
        assert answer.status_code == status
        assert f"<h1>{title}</h1>" in text, (status, language)
        assert 'href="tel:+33142000000"' in text and "/static/public/pages." in text
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text


def test_an_abuse_limit_answers_429_with_the_page(bella):
    request = RequestFactory().get("/bella/verify/")
    answer = permission_denied(request, Ratelimited())
    assert answer.status_code == 429
    assert "Too many attempts" in _text(answer) and "Bella Coiffure" in _text(answer)
    api = permission_denied(RequestFactory().get("/api/v1/salons/bella/"), Ratelimited())
    assert api.status_code == 429 and json.loads(api.content)["code"] == "throttled"


def test_the_clients_private_pages_are_not_indexed_and_all_give_the_phone(client, bella, settings):
    settings.PAYMENTS_TEST_MODE = True
    customer = CustomerFactory(salon=bella.salon)
    booking = book(bella, customer, local(bella.salon, 1, 10))
    token = booking_manage_token(booking)
    booked = client.post(
        "/bella/book/",
        {
            "service": bella.cut.pk,
            "start": local(bella.salon, 2, 10).isoformat(),
            "name": "Léa Martin",
            "phone": "06 12 34 56 78",
            "payment_option": "deposit",
            "action": "book",
        },
    )
    assert booked.status_code == 302 and booked["Location"].endswith("/pay/")
    paths = (booked["Location"], f"/manage/{token}/", "/bella/verify/", f"/manage/{token}/verify/")
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, path
        page = answer.content.decode()
        assert '<meta name="robots" content="noindex">' in page, path
        # The salon's phone, to call, in the header of every client page.
        assert '<a class="call" href="tel:+33142000000">' in page, path
    for path in ("/bella/", "/bella/book/"):
        page = client.get(path).content.decode()
        assert "noindex" not in page, path
        assert '<a class="call" href="tel:+33142000000">' in page, path


# In a browser: a phone and a desktop -----------------------------------------------------------


def _media_served(request, path):
    return serve(request, path, document_root=django_settings.MEDIA_ROOT)


# The project's addresses, and the pictures (served by the web server in production).
urlpatterns = [re_path(r"^media/(?P<path>.+)$", _media_served), *project_urls]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_client_finds_the_salon_and_reaches_booking_by_keyboard(
    chromium, pages_server, settings, media, catalogue_a, locale, size
):
    from tests.browser.harness import DESKTOP, PHONE, SCREENSHOTS, axe_violations

    settings.ROOT_URLCONF = __name__
    _dress(catalogue_a, kind="hair", phone="+33142000000", address=ADDRESS, word="Bella")
    viewport = PHONE if size == "phone" else DESKTOP
    phone = size == "phone"
    context = chromium.new_context(
        viewport=viewport,
        locale=locale,
        base_url=pages_server.url,
        is_mobile=phone,
        has_touch=phone,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    french = locale == "fr-FR"
    try:
        page.goto("/bella/")
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == locale[:2]
        assert page.locator("h1").inner_text() == "Bella Coiffure"
        # The pictures load (served, and resized).
        assert page.evaluate("document.querySelector('img.cover').naturalWidth") == 1600
        assert page.evaluate("document.querySelector('img.logo').naturalWidth") == 256
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert axe_violations(page) == []
        # The first service to book is on the first screen, even on a phone.
        first = page.locator("a.book").first
        box = first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= viewport["height"], box
        # The phone, in the header, to call.
        call = page.locator("header.site a.call")
        assert call.get_attribute("href") == "tel:+33142000000"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"salon-page-{size}-{locale}.png"), full_page=True)
        # The keyboard reaches "Book" in a few steps: skip link, salon, phone, then the list.
        for _step in range(8):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains('book')"):
                break
        focused = page.evaluate("document.activeElement.textContent")
        assert focused.startswith("Réserver" if french else "Book"), focused
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/bella/book/\?service=\d+$"))
        service = int(page.url.rsplit("=", 1)[1])
        assert page.locator(f"#service-{service}").is_checked()
    finally:
        context.close()
    assert errors == []
