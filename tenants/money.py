"""Currencies: amounts are integers in the currency's minor unit (DESIGN.md, invariant 3)."""

# ISO 4217 code -> number of decimals of its minor unit.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BGN": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2,
    "DKK": 2, "DZD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "ILS": 2, "INR": 2,
    "JPY": 0, "KRW": 0, "MAD": 2, "MXN": 2, "NOK": 2, "NZD": 2, "PLN": 2, "RON": 2,
    "SEK": 2, "SGD": 2, "TND": 3, "TRY": 2, "USD": 2, "XAF": 0, "XOF": 0, "XPF": 0,
    "ZAR": 2,
}  # fmt: skip

CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_EXPONENTS)]

# The largest amount stored: amounts live in PostgreSQL `integer` columns (and in JSON
# rules that end up there). An amount beyond is refused, never wrapped around.
AMOUNT_MAX = 2**31 - 1
# What a `smallint` column (counts of visits, no-shows) holds.
SMALL_MAX = 2**15 - 1
