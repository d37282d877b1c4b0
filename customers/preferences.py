"""A client's preferences, as the salon notes them: the days and times of day she likes,
the staff she asks for, the products she uses, her allergies. Stored in the customer's
`preferences` (JSON) and checked here once, for every door (the staff API, the admin).

Allergies are health data (GDPR, article 9): kept only with the client's consent
(`Purpose.HEALTH`), and forgotten when she withdraws it (customers.services)."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TIMES = ("morning", "afternoon", "evening")
TIME_CHOICES = [
    ("morning", gettext_lazy("Morning")),
    ("afternoon", gettext_lazy("Afternoon")),
    ("evening", gettext_lazy("Evening")),
]
TEXT_MAX = 2000


def _ids(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    )


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= TEXT_MAX


CHECKS: dict[str, Callable[[Any], bool]] = {
    "services": _ids,
    "staff": _ids,
    "days": lambda v: _ids(v) and all(0 <= d <= 6 for d in v),
    "times": lambda v: isinstance(v, list) and all(t in TIMES for t in v),
    "products": _text,
    "allergies": _text,
    "notes": _text,
}


def preferences_check(value: Any) -> dict[str, Any]:
    """`value` as stored, or a ValidationError saying what is wrong: services and staff as
    lists of ids, days as 0 (Monday) to 6, times among morning, afternoon and evening,
    products, allergies and notes as text."""
    if not isinstance(value, dict):
        raise ValidationError(_("Expected an object."))
    unknown = set(value) - set(CHECKS)
    if unknown:
        raise ValidationError(_("Unknown keys: %s.") % ", ".join(sorted(unknown)))
    bad = [key for key, ok in CHECKS.items() if key in value and not ok(value[key])]
    if bad:
        raise ValidationError(
            _(
                "Expected services and staff as lists of ids, days as 0 (Monday) to 6, "
                "times among morning, afternoon and evening, products, allergies and notes "
                "as text; check: %s."
            )
            % ", ".join(bad)
        )
    # Empty answers are not kept: an empty list or text says nothing.
    return {key: v for key, v in value.items() if v not in ("", [], None)}


def preferences_health(value: dict[str, Any]) -> bool:
    """The preferences hold health data (what needs the client's consent)."""
    return bool(str(value.get("allergies", "")).strip())
