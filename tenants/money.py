"""Currencies: amounts are integers in the currency's minor unit (DESIGN.md, invariant 3)."""

from core.money import CURRENCY_EXPONENTS

CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_EXPONENTS)]

# The largest amount stored: amounts live in PostgreSQL `integer` columns (and in JSON
# rules that end up there). An amount beyond is refused, never wrapped around.
AMOUNT_MAX = 2**31 - 1
# What a `smallint` column (counts of visits, no-shows) holds.
SMALL_MAX = 2**15 - 1
