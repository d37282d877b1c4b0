"""The admin in French: every name an owner reads there (sections, models, fields, column
headers, filters, actions, inlines, help texts) has its French, and the pages show no
English left over; axe-core finds nothing serious on them, in French and in English."""

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, label_for_field
from django.db import models
from django.forms.utils import pretty_name
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy

from deposits.services import policy_set
from support.services import request_open
from tenants.scoping import salon_scope
from tests.browser.harness import DESKTOP, axe_violations
from tests.conftest import book
from tests.factories import PASSWORD, CustomerFactory

# Words French writes as English does: not left untranslated, the same word.
SAME_IN_BOTH = {
    # Names of products and places, the same in every language.
    "api",
    "facebook",
    "google",
    "instagram",
    "client",
    "clients",
    "description",
    "e-mail",
    "logo",
    "message",
    "messages",
    "notes",
    "photo",
    "position",
    "salon",
    "salons",
    "sms",
    "source",
    "type",
    "version",
    "web",
}


def _world(team_a, catalogue_a) -> dict[str, Any]:
    """A client with a booking, a request and a deposit policy: objects for change pages."""
    salon = team_a.salon
    lea: Any = CustomerFactory(salon=salon, consents={"marketing": True})
    day = timezone.now().astimezone(salon.tz).date() + dt.timedelta(days=3)
    day += dt.timedelta(days=1) if day.weekday() == 6 else dt.timedelta()
    booking = book(
        catalogue_a, lea, dt.datetime.combine(day, dt.time(10), tzinfo=salon.tz), source="phone"
    )
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
        request_open(
            salon=salon,
            channel="phone",
            category="lost_item",
            summary="Écharpe oubliée",
            customer=lea,
            item_description="Écharpe bleue",
        )
    return {"customer": lea, "booking": booking}


def _owner_request(owner) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = owner
    return request


def _visible_admins(owner) -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    request = _owner_request(owner)
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_module_permission(request) and model_admin.has_view_permission(request)
    ]


def _field_strings(field: Any) -> list[Any]:
    strings = [field.verbose_name]
    if getattr(field, "help_text", ""):
        strings.append(field.help_text)
    for _value, label in getattr(field, "flatchoices", None) or []:
        # Currency codes and language names (each in its own language) are not words.
        if isinstance(label, Promise) or not (
            re.fullmatch(r"[A-Z]{3}", label) or label in {"Français", "English"}
        ):
            strings.append(label)
    return strings


def _plural(opts: Any) -> dict[str, str]:
    return {"verbose_name_plural": str(opts.verbose_name_plural)}


def _admin_strings(owner, model: type[models.Model], model_admin: admin.ModelAdmin) -> list[Any]:
    """Every name the admin of `model` shows, as lazy strings (or plain ones, which are
    then untranslated)."""
    request = _owner_request(owner)
    opts = model._meta
    strings: list[Any] = [
        apps.get_app_config(opts.app_label).verbose_name,
        opts.verbose_name,
        opts.verbose_name_plural,
    ]
    for field in opts.get_fields():
        if hasattr(field, "verbose_name") and not field.auto_created:
            strings += _field_strings(field)
    labelled = [
        *model_admin.get_list_display(request),
        *(name for name in model_admin.get_fields(request) if isinstance(name, str)),
        *model_admin.get_readonly_fields(request),
    ]
    form = model_admin.get_form(request)
    strings += [
        label_for_field(name, model, model_admin)
        for name in labelled
        if name not in form.base_fields  # the form's own fields, below
    ]
    for list_filter in model_admin.get_list_filter(request):
        if isinstance(list_filter, str):
            strings.append(get_fields_from_path(model, list_filter)[-1].verbose_name)
        elif isinstance(list_filter, type):
            strings.append(list_filter.title)
    for _func, _name, description in filter(None, model_admin.get_actions(request).values()):
        # Django's own ("Delete selected %(verbose_name_plural)s") is formatted when shown.
        strings.append(lazy(lambda d=description: str(d) % _plural(opts), str)())
    strings += [title for title, _options in model_admin.get_fieldsets(request) if title]
    for name, form_field in form.base_fields.items():
        # A field declared without a label is named after its attribute, in English.
        strings += [form_field.label or pretty_name(name), form_field.help_text]
    for inline in model_admin.get_inline_instances(request):
        strings += [inline.verbose_name, inline.verbose_name_plural]
        for field_name in inline.get_fields(request):
            if isinstance(field_name, str):
                strings.append(label_for_field(field_name, inline.model, inline))
    return [s for s in strings if s]


def _in_both(owner, model: type[models.Model], model_admin: admin.ModelAdmin) -> list[Any]:
    """Each name of the admin of `model` in English and in French, as two requests in
    those languages build it (some labels are put together per request)."""
    built = {}
    for language in ("en", "fr"):
        with translation.override(language):
            built[language] = [str(s) for s in _admin_strings(owner, model, model_admin)]
    return list(zip(built["en"], built["fr"], strict=True))


def _untranslated(pairs: list[tuple[str, str]]) -> set[str]:
    return {
        english
        for english, french in pairs
        if french.casefold() == english.casefold() and english.casefold() not in SAME_IN_BOTH
    }


class _Names(HTMLParser):
    """The texts of a page's headings, column headers, labels, filter titles and action
    choices: where the admin writes names."""

    TAGS = {"h1", "h2", "h3", "th", "label", "option", "caption", "a"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.TAGS:
            self.open.append(tag)
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open:
            self.texts[-1] += data


def _names(html: str) -> set[str]:
    parser = _Names()
    parser.feed(html)
    return {" ".join(t.split()).rstrip(" :\u00a0").casefold() for t in parser.texts if t.strip()}


def _english_only(pairs: list[tuple[str, str]]) -> set[str]:
    """The English of the names whose French differs: seen on a French page, English was
    left over."""
    return {
        english.casefold() for english, french in pairs if english.casefold() != french.casefold()
    }


@pytest.mark.django_db
def test_every_admin_string_an_owner_reads_has_its_french(team_a, catalogue_a):
    _world(team_a, catalogue_a)
    visible = _visible_admins(team_a.owner)
    # The owner's admin: the catalogue, the team, the clients, the bookings, the money,
    # the messages and the requests.
    assert {model._meta.model_name for model, _ in visible} >= {
        "salon",
        "membership",
        "service",
        "staffmember",
        "customer",
        "booking",
        "depositpolicy",
        "payment",
        "creditentry",
        "message",
        "customerrequest",
    }
    with salon_scope(team_a.salon):  # as the admin's requests run
        names = {
            model._meta.label: _in_both(team_a.owner, model, model_admin)
            for model, model_admin in visible
        }
    missing = {
        f"{label}: {english}" for label, pairs in names.items() for english in _untranslated(pairs)
    }
    assert not missing, "\n".join(sorted(missing))
    # French typography: a non-breaking space before : ; ! ? and curly apostrophes.
    badly_set = {
        french
        for pairs in names.values()
        for _english, french in pairs
        if re.search(r"[^\u00a0\u202f][:;!?](\s|$)|\w'\w", french)
    }
    assert not badly_set, "\n".join(sorted(badly_set))


def test_the_check_finds_an_english_name():
    """The check itself: a plain string, never translated, is caught."""

    def pairs(*strings: Any) -> list[tuple[str, str]]:
        with translation.override("en"):
            english = [str(s) for s in strings]
        with translation.override("fr"):
            return list(zip(english, [str(s) for s in strings], strict=True))

    assert _untranslated(pairs("Staff members", translation.gettext_lazy("bookings"))) == {
        "Staff members"
    }
    assert _untranslated(pairs("Notes")) == set()


@pytest.mark.django_db
def test_the_admin_pages_in_french_show_no_english(client, team_a, catalogue_a):
    _world(team_a, catalogue_a)
    assert client.login(username=team_a.owner.username, password=PASSWORD)
    client.cookies["django_language"] = "fr"
    index = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr")
    assert index.status_code == 200
    text = index.content.decode()
    assert 'lang="fr"' in text
    assert not re.search(r">\s*(Add|Change|View)\b", text), "English links on the index"
    for english in ("Bookings", "Staff members", "Customers", "Credit entrys", "Deposits"):
        assert not re.search(rf">\s*{english}\s*<", text), english

    checked = 0
    for model, model_admin in _visible_admins(team_a.owner):
        with salon_scope(team_a.salon):
            english = _english_only(_in_both(team_a.owner, model, model_admin))
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        paths = [base]
        if model_admin.has_add_permission(_owner_request(team_a.owner)):
            paths.append(f"{base}add/")
        with salon_scope(team_a.salon):
            first = model_admin.get_queryset(_owner_request(team_a.owner)).first()
        if first is not None:
            paths.append(f"{base}{first.pk}/change/")
        for path in paths:
            page = client.get(path, HTTP_ACCEPT_LANGUAGE="fr")
            assert page.status_code == 200, path
            left = _names(page.content.decode()) & english
            assert left == set(), (path, left)
            checked += 1
    assert checked >= 25


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_the_admin_passes_axe_in_both_languages(
    chromium, pages_server, team_a, catalogue_a, locale
):
    world = _world(team_a, catalogue_a)
    context = chromium.new_context(viewport=DESKTOP, locale=locale, base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/admin/login/")
        page.fill("#id_username", team_a.owner.username)
        page.fill("#id_password", PASSWORD)
        page.click("[type=submit]")
        page.wait_for_load_state()
        for path in (
            "/admin/",
            "/admin/bookings/staffmember/",
            f"/admin/bookings/staffmember/{catalogue_a.alice.pk}/change/",
            f"/admin/customers/customer/{world['customer'].pk}/change/",
            f"/admin/bookings/booking/{world['booking'].pk}/change/",
        ):
            page.goto(path)
            assert page.locator("html").get_attribute("lang") == locale[:2], path
            assert axe_violations(page) == [], path
    finally:
        context.close()
