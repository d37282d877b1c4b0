"""Currencies: amounts are integers in the currency's minor unit (DESIGN.md, invariant 3)."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.money import CURRENCY_EXPONENTS

CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_EXPONENTS)]

# The largest amount stored: amounts live in PostgreSQL `integer` columns (and in JSON
# rules that end up there). An amount beyond is refused, never wrapped around.
AMOUNT_MAX = 2**31 - 1
# What a `smallint` column (counts of visits, no-shows) holds.
SMALL_MAX = 2**15 - 1


class MoneyField(forms.DecimalField):
    """An amount typed as people write money in their language ("48,00" in French,
    "48.00" in English), in the currency's units, and kept in its minor unit: `clean`
    gives integer cents, and an amount in cents is shown back in units. The owner never
    types cents, and an amount beyond what the column holds is a form error."""

    def __init__(self, *, currency: str = "EUR", **kwargs: Any) -> None:
        self.currency = currency
        self.exponent = CURRENCY_EXPONENTS.get(currency, 2)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal(AMOUNT_MAX).scaleb(-self.exponent))
        kwargs.setdefault("localize", True)
        super().__init__(max_digits=None, decimal_places=self.exponent, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "class": "vMoneyField"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value).scaleb(-self.exponent)
        return super().prepare_value(value)

    def clean(self, value: Any) -> int | None:
        amount = super().clean(value)
        return None if amount is None else int(amount.scaleb(self.exponent))

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.clean(data) != initial
        except ValidationError:
            return True
