from django import template
from django.utils import translation

from ..pages_format import money_for

register = template.Library()


@register.filter
def money(cents: int | None, currency: str) -> str:
    """Integer cents written for the active language: "15,00 €" / "€15.00"."""
    return money_for(int(cents or 0), currency, translation.get_language() or "en")
