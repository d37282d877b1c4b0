"""Consent texts and the signed one-click withdrawal link."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Customer, Purpose

# Bump when the wording a client agrees to changes; the ledger records which one they saw.
CONSENT_TEXT_VERSION = "2026-11"

_SALT = "customers.consent.withdraw"


def withdraw_token(*, customer: Customer, purpose: str = Purpose.MARKETING) -> str:
    return signing.dumps({"s": customer.salon_id, "c": customer.pk, "p": purpose}, salt=_SALT)


def withdraw_token_read(token: str) -> tuple[int, int, str] | None:
    """(salon id, customer id, purpose) of a genuine token, or None."""
    try:
        data = signing.loads(token, salt=_SALT)
        return int(data["s"]), int(data["c"]), Purpose(data["p"]).value
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def withdraw_url(*, customer: Customer, purpose: str = Purpose.MARKETING) -> str:
    """The link put in every marketing message: one click withdraws the consent."""
    path = reverse(
        "consent-withdraw",
        kwargs={
            "salon": customer.salon.slug,
            "token": withdraw_token(customer=customer, purpose=purpose),
        },
    )
    return f"{settings.SITE_URL}{path}"
