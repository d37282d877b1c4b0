"""Money: amounts are integers in the currency's minor unit (DESIGN.md, invariant 3), and
one formatter writes them for a person in their language's own format, with Babel's
locale data: `1500, "EUR"` is "15,00 €" in French and "€15.00" in English."""

import copy
from decimal import Decimal

from babel import Locale

# ISO 4217 code -> number of decimals of its minor unit (the amounts Stripe takes).
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2,
    "AUD": 2,
    "BGN": 2,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "DZD": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "ILS": 2,
    "INR": 2,
    "JPY": 0,
    "KRW": 0,
    "MAD": 2,
    "MXN": 2,
    "NOK": 2,
    "NZD": 2,
    "PLN": 2,
    "RON": 2,
    "SEK": 2,
    "SGD": 2,
    "TND": 3,
    "TRY": 2,
    "USD": 2,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "ZAR": 2,
}


def babel_locale(language: str) -> str:
    """A Django language code ("fr", "en-gb", "pt_BR") as a Babel locale name."""
    code = (language or "en").replace("-", "_")
    head, _sep, tail = code.partition("_")
    return f"{head.lower()}_{tail.upper()}" if tail else head.lower()


def money_format(cents: int, currency: str, language: str) -> str:
    """Integer minor units written as the language's locale writes money, with exactly
    the currency's decimals: `123450, "EUR", "fr"` → "1 234,50 €" (narrow no-break space
    between groups, no-break space before the symbol), `"en"` → "€1,234.50"."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    locale = Locale.parse(babel_locale(language))
    # The locale's own pattern (symbol place, separators, sign), with the decimals of the
    # amounts we store (CLDR writes HUF without its minor unit; Stripe counts it).
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (exponent, exponent)
    amount = Decimal(int(cents)).scaleb(-exponent)
    return pattern.apply(amount, locale, currency=currency, currency_digits=False)
