"""One money formatter: every amount a client or the owner reads (messages, pages, the
admin, the API's sentences) is written by `core.money.money_format`, in the locale's own
format as Babel's data has it."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_currency_precision
from django.core import mail

from bookings.services import booking_cancel
from core.money import CURRENCY_EXPONENTS, money_format
from deposits.models import DepositPolicy, Payment
from deposits.services import policy_set
from messaging import sms
from messaging.outbox import messages_run
from messaging.sms import sms_text
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

AMOUNT = 123450  # 1 234,50 € / €1,234.50


def _babel(cents: int, currency: str, locale: str) -> str:
    exponent = get_currency_precision(currency)
    return format_currency(Decimal(cents).scaleb(-exponent), currency, locale=locale)


# The formatter ---------------------------------------------------------------------------


def test_money_is_written_in_the_locale_s_own_format():
    assert money_format(1500, "EUR", "fr") == "15,00\u00a0€"
    assert money_format(1500, "EUR", "en") == "€15.00"
    assert money_format(AMOUNT, "EUR", "fr") == "1\u202f234,50\u00a0€"
    assert money_format(AMOUNT, "EUR", "en") == "€1,234.50"
    assert money_format(123456, "CAD", "en") == "CA$1,234.56"
    assert money_format(AMOUNT, "EUR", "fr") == _babel(AMOUNT, "EUR", "fr")


def test_a_currency_without_decimals_is_written_without_them():
    assert money_format(500, "JPY", "en") == "¥500"
    assert money_format(1500, "JPY", "fr") == "1\u202f500\u00a0JPY"
    assert money_format(1500, "XOF", "fr") == _babel(1500, "XOF", "fr")
    assert money_format(1234, "TND", "fr") == _babel(1234, "TND", "fr")
    assert money_format(1234, "TND", "en") == "TND1.234"  # three decimals


def test_zero_and_negative_amounts():
    assert money_format(0, "EUR", "fr") == "0,00\u00a0€"
    assert money_format(0, "EUR", "en") == "€0.00"
    assert money_format(-1500, "EUR", "fr") == "-15,00\u00a0€"
    assert money_format(-1500, "EUR", "en") == "-€15.00"
    assert money_format(-5, "JPY", "en") == "-¥5"


def test_a_region_language_code_is_a_babel_locale():
    assert money_format(1500, "EUR", "en-gb") == _babel(1500, "EUR", "en_GB")
    assert money_format(1500, "CHF", "fr-ch") == _babel(1500, "CHF", "fr_CH")


def test_the_decimals_written_are_the_ones_stored():
    """Amounts are stored in Stripe's minor unit; where CLDR writes a currency without it
    (HUF), the amount is still written with the decimals it was stored with."""
    assert get_currency_precision("HUF") == 0 and CURRENCY_EXPONENTS["HUF"] == 2
    assert money_format(150050, "HUF", "en") == "HUF1,500.50"
    for currency, exponent in CURRENCY_EXPONENTS.items():
        if currency != "HUF":
            assert money_format(AMOUNT, currency, "fr") == _babel(AMOUNT, currency, "fr")
            assert exponent == get_currency_precision(currency)


# One amount everywhere -------------------------------------------------------------------


@pytest.fixture
def texts(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    return sms.outbox


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_one_amount_reads_the_same_in_an_email_an_sms_a_page_and_the_admin(
    language,
    client,
    texts,
    team_a,
    catalogue_a,
    monday,
):
    salon = catalogue_a.salon
    expected = _babel(AMOUNT, salon.currency, language)
    with salon_scope(salon):
        catalogue_a.cut.price = AMOUNT
        catalogue_a.cut.save(update_fields=["price"])

    # The e-mail and the SMS: a cancellation says what became of the payment.
    by_sms = CustomerFactory(salon=salon, language=language, phone="+33612345678")
    by_email = CustomerFactory(
        salon=salon, language=language, preferred_channel="email", email="zoe@example.org", phone=""
    )
    for hour, customer in ((10, by_sms), (11, by_email)):
        booking = book(catalogue_a, customer, local(salon, 1, hour))
        with salon_scope(salon):
            Payment.objects.create(
                salon_id=salon.pk,
                booking=booking,
                kind="deposit",
                amount=AMOUNT,
                currency=salon.currency,
                status="succeeded",
                outcome="refunded",
            )
            booking_cancel(booking=booking, by_salon=True)
    with salon_scope(salon):
        messages_run(salon=salon)
    # By SMS, the no-break space is a plain one: the text stays in the GSM alphabet.
    (text,) = [
        t
        for t in texts
        if by_sms.phone and t.to == str(by_sms.phone) and sms_text(expected) in t.body
    ]
    (email,) = [m for m in mail.outbox if expected in m.body]
    assert email.to == ["zoe@example.org"] and text.body

    # A client page: the salon page lists the service's price.
    page = client.get(f"/{salon.slug}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert expected in page

    # The admin: the deposit policy's preview lists the price too.
    with salon_scope(salon):
        policy, _created = DepositPolicy.objects.get_or_create(salon=salon)
    client.force_login(team_a.owner)
    admin = client.get(
        f"/admin/deposits/depositpolicy/{policy.pk}/change/", HTTP_ACCEPT_LANGUAGE=language
    )
    assert admin.status_code == 200
    (row,) = [r for r in admin.context["preview"]["rows"] if r["service"] == "Coupe"]
    assert row["price"] == expected
    assert expected in admin.content.decode()
    # The admin's lists of payments and credit write amounts the same way.
    payments = client.get("/admin/deposits/payment/", HTTP_ACCEPT_LANGUAGE=language)
    assert payments.status_code == 200 and expected in payments.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_api_s_sentences_write_amounts_as_their_own_language_does(
    language,
    api,
    team_a,
    catalogue_a,
    monday,
):
    """The terms and the quote's reason are English sentences: their amounts are written
    the English way whatever the request's language, never a French amount in English."""
    salon = team_a.salon
    expected = _babel(AMOUNT, salon.currency, "en")
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[], min_amount=AMOUNT)
    terms = api().get(f"/api/v1/salons/{salon.slug}/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert f"at least {expected}" in terms["deposit_terms"]
    with salon_scope(salon):
        catalogue_a.cut.deposit_override = {"kind": "fixed", "value": AMOUNT}
        catalogue_a.cut.price = 2 * AMOUNT
        catalogue_a.cut.save(update_fields=["deposit_override", "price"])
    quote = (
        api(team_a.owner)
        .get(
            f"/api/v1/salons/{salon.slug}/backoffice/deposit-policy/quote/",
            {"service": catalogue_a.cut.pk, "date": "2027-03-02"},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        .json()
    )
    assert quote["reason"] == f"A deposit of {expected}, set for this service."
