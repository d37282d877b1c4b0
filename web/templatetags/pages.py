from django import template
from django.utils import translation

from core.money import money_format

register = template.Library()


@register.filter
def money(cents: int | None, currency: str) -> str:
    """Integer cents written for the active language: "15,00 €" / "€15.00"."""
    return money_format(int(cents or 0), currency, translation.get_language() or "en")
