"""The salon's own page, `/<salon>/`: who the salon is (logo, cover, description, staff),
where and when (address with a map and directions, opening hours, phone), and what it
offers, in its categories, each service with its price, length and today's deposit and
a link to book it (`/<salon>/book/?service=ID`). Search engines read the same in
schema.org terms (a `HairSalon` or `BeautySalon`), social networks in Open Graph tags.

The deposit shown is the one the public API's `deposit_today` gives (`deposits_today`):
a new client booking now.
"""

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

from babel.dates import format_time, get_day_names
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from bookings.models import Service, ServiceCategory, StaffMember
from bookings.selectors import (
    catalogue_get,
    category_list,
    salon_opening_hours,
    service_list,
    staff_list,
)
from core.money import babel_locale, money_format
from deposits.selectors import deposits_today
from tenants.models import Salon, SalonKind
from web.permissions import request_salon
from web.public.booking import page, salon_locale

SCHEMA_TYPES = {SalonKind.HAIR: "HairSalon", SalonKind.BEAUTY: "BeautySalon"}
SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DESCRIPTION_LENGTH = 160


def absolute(url: str) -> str:
    """A link as shared outside the site (search engines, social networks): on SITE_URL
    unless it names its own host already (a storage's address)."""
    return url if re.match(r"^https?://", url) else settings.SITE_URL + url


def _map_links(address: str) -> dict[str, str]:
    """The address on OpenStreetMap, and the way there on Google Maps: plain links, no
    script of theirs on the page."""
    if not address.strip():
        return {}
    query = " ".join(address.split())
    return {
        "map": "https://www.openstreetmap.org/search?" + urlencode({"query": query}),
        "directions": "https://www.google.com/maps/dir/?"
        + urlencode({"api": "1", "destination": query}, quote_via=quote),
    }


def postal_address(address: str, country: str) -> dict[str, str]:
    """The salon's free-text address as schema.org's `PostalAddress`: its last part read
    as postal code and town when it starts with one ("75011 Paris"), the rest the street."""
    parts = [p.strip() for p in re.split(r"[,\n]", address) if p.strip()]
    found: dict[str, str] = {"@type": "PostalAddress", "addressCountry": country}
    town = re.match(r"^(\S*\d\S*)\s+(.+)$", parts[-1]) if len(parts) > 1 else None
    if town:
        found["postalCode"], found["addressLocality"] = town.group(1), town.group(2)
        parts = parts[:-1]
    found["streetAddress"] = ", ".join(parts)
    return found


def _hours(
    opening: dict[int, list[tuple[dt.time, dt.time]]], language: str
) -> list[dict[str, Any]]:
    """Monday to Sunday, each with its ranges as the language writes times ("09:00",
    "9:00 AM"); an empty list when closed."""
    locale = babel_locale(language)
    names = get_day_names("wide", locale=locale)
    return [
        {
            "weekday": day,
            "name": names[day][:1].upper() + names[day][1:],
            "ranges": [
                f"{format_time(start, 'short', locale=locale)}\u2013"
                f"{format_time(end, 'short', locale=locale)}"
                for start, end in opening.get(day, [])
            ],
        }
        for day in range(7)
    ]


def _sections(
    categories: list[ServiceCategory], services: list[Service], deposits: dict[int, int]
) -> list[dict[str, Any]]:
    """The services under their categories, in the salon's order; those in none last,
    under "Other services" (or under no heading when the salon has no categories)."""
    rows = {
        s.pk: {"service": s, "deposit": deposits.get(s.pk, 0), "book": f"?service={s.pk}"}
        for s in services
    }
    sections = [
        {"category": c, "services": [rows[s.pk] for s in services if s.category_id == c.pk]}
        for c in categories
    ]
    loose = [rows[s.pk] for s in services if s.category_id not in {c.pk for c in categories}]
    if loose:
        sections.append({"category": None, "services": loose})
    return [section for section in sections if section["services"]]


def structured_data(
    *,
    salon: Salon,
    url: str,
    image: str,
    description: str,
    opening: dict[int, list[tuple[dt.time, dt.time]]],
    prices: list[int],
    language: str,
) -> dict[str, Any]:
    """The salon in schema.org's terms, for search engines."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(SalonKind(salon.kind), "HairSalon"),
        "name": salon.name,
        "url": url,
        "description": description,
        "openingHoursSpecification": [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": f"https://schema.org/{SCHEMA_DAYS[day]}",
                "opens": start.strftime("%H:%M"),
                "closes": end.strftime("%H:%M"),
            }
            for day, ranges in opening.items()
            for start, end in ranges
        ],
    }
    if image:
        data["image"] = image
    if salon.phone:
        data["telephone"] = str(salon.phone)
    if salon.email:
        data["email"] = salon.email
    if salon.address.strip():
        data["address"] = postal_address(salon.address, salon.country)
    if prices:
        low, high = min(prices), max(prices)
        data["priceRange"] = (
            money_format(low, salon.currency, language)
            if low == high
            else f"{money_format(low, salon.currency, language)}\u2013"
            f"{money_format(high, salon.currency, language)}"
        )
        data["currenciesAccepted"] = salon.currency
    return data


def json_ld(data: dict[str, Any]) -> SafeString:
    """JSON inside a <script> element: nothing in it may close the element or open a
    comment (the same escapes as Django's `json_script`)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003C"), (">", "\\u003E"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    # Safe in a script element: escaped above, as `json_script` escapes.
    return mark_safe(text)  # noqa: S308  # nosec B308 B703


@require_safe
def salon_home(request: HttpRequest, salon: str) -> HttpResponse:
    the_salon = request_salon(request)
    with salon_locale(the_salon) as language:
        services = list(service_list(salon=the_salon, active_only=True).order_by("name", "pk"))
        catalogue = catalogue_get(salon=the_salon)
        # Staff who take bookings (active, offering a service), with their photo and bio.
        staff: list[StaffMember] = [
            m
            for m in staff_list(salon=the_salon, active_only=True).order_by("name", "pk")
            if m.pk in catalogue.staff
        ]
        opening = salon_opening_hours(salon=the_salon)
        deposits = deposits_today(salon=the_salon, services=services)
        url = absolute(reverse("salon-page", kwargs={"salon": the_salon.slug}))
        picture = the_salon.cover or the_salon.logo
        image = absolute(picture.url) if picture else ""
        description = " ".join(the_salon.description.split()) or _(
            "Book online at %(name)s, at any hour: choose your service and your time."
        ) % {"name": the_salon.name}
        return page(
            request,
            the_salon,
            "salon_home.html",
            {
                "sections": _sections(list(category_list(salon=the_salon)), services, deposits),
                "staff": staff,
                "hours": _hours(opening, language),
                "open_any_day": bool(opening),
                "links": _map_links(the_salon.address),
                "book_url": reverse("book", kwargs={"salon": the_salon.slug}),
                "canonical": url,
                "image": image,
                "meta_description": Truncator(description).chars(DESCRIPTION_LENGTH),
                "json_ld": json_ld(
                    structured_data(
                        salon=the_salon,
                        url=url,
                        image=image,
                        description=description,
                        opening=opening,
                        prices=[s.price for s in services],
                        language=language,
                    )
                ),
            },
        )
