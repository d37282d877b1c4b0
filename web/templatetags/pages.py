from django import template
from django.utils import translation
from django.utils.translation import gettext as _

from bookings.models import Booking, BookingItem, page_source
from core.money import money_format
from tenants.phones import phone_display

register = template.Library()


@register.filter
def money(cents: int | None, currency: str) -> str:
    """Integer cents written for the active language: "15,00 €" / "€15.00"."""
    return money_format(int(cents or 0), currency, translation.get_language() or "en")


@register.filter
def phone(number: object, country: str) -> str:
    """A salon's number as its country writes it ("01 42 00 00 00"); `tel:` links take
    the number itself (E.164)."""
    return phone_display(number, country=country)


@register.filter
def minutes(value: int | None) -> str:
    """A length of time in minutes, as a salon writes it: "45 min", "1 h", "1 h 45"."""
    total = int(value or 0)
    hours, rest = divmod(total, 60)
    if not hours:
        return _("%(minutes)s min") % {"minutes": rest}
    if not rest:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(hours)s h %(minutes)02d") % {"hours": hours, "minutes": rest}


@register.filter
def visit_items(booking: Booking) -> list[BookingItem]:
    """A booking's items in order, with their services and staff (one query); a page lists
    them when there are several."""
    return list(booking.items.select_related("service", "staff").order_by("position"))


@register.simple_tag(takes_context=True)
def page_channel(context: template.Context) -> str:
    """The channel the booking page was opened from (`?source=` on a share link or the
    widget's frame), kept by the form as it posts back; unknown: the page's own (web)."""
    request = context.get("request")
    if request is None:
        return page_source(None)
    data = request.POST if request.method == "POST" else request.GET
    return page_source(data.get("source"))
