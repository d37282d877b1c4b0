"""Legal interest on money paid in advance and held more than three months (L214-2)."""

import datetime as dt
from decimal import Decimal

import pytest

from deposits.interest import interest_on, months_after
from tests.conftest import policy_put
from tests.deposits.test_cancellation_money import _paid_booking

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2027, 3, 1), dt.date(2027, 6, 1)),
        (dt.date(2026, 11, 30), dt.date(2027, 2, 28)),
        (dt.date(2027, 11, 30), dt.date(2028, 2, 29)),  # a leap year
        (dt.date(2027, 8, 31), dt.date(2027, 11, 30)),
        (dt.date(2027, 10, 15), dt.date(2028, 1, 15)),
    ],
)
def test_three_months_are_calendar_months(day, expected):
    assert months_after(day, 3) == expected


def test_interest_runs_only_after_three_months_and_rounds_half_up():
    paid = dt.date(2027, 3, 1)
    rate = Decimal("7.30")
    assert interest_on(1500, paid_on=paid, until=dt.date(2027, 6, 1), rate=rate) == 0
    assert interest_on(1500, paid_on=paid, until=dt.date(2027, 5, 20), rate=rate) == 0
    # 1,500 cents x 7.30 % x 30 / 365 = 9.00 cents.
    assert interest_on(1500, paid_on=paid, until=dt.date(2027, 7, 1), rate=rate) == 9
    # 6,000 x 6.65 % x 61 / 365 = 66.68 -> 67 cents; 1,500 x 6.65 % x 30 / 365 = 8.198 -> 8.
    assert interest_on(6000, paid_on=paid, until=dt.date(2027, 8, 1), rate=Decimal("6.65")) == 67
    assert interest_on(1500, paid_on=paid, until=dt.date(2027, 7, 1), rate=Decimal("6.65")) == 8
    assert interest_on(1500, paid_on=paid, until=dt.date(2027, 7, 1), rate=Decimal(0)) == 0


def test_a_deposit_paid_four_months_ahead_shows_and_deducts_its_interest(
    api, client, settings, stripe_api, team_a, team_b, catalogue_a, catalogue_b, monday
):
    """Paid on Monday 1 March 2027 for Thursday 1 July: the interest runs from 1 June, 30
    days at 7.30 % on €15.00 = €0.09, deducted from the €60.00 cut's balance: €44.91."""
    settings.LEGAL_INTEREST_RATE = "7.30"
    policy_put(api, team_a)
    ahead = _paid_booking(api, client, settings, stripe_api, catalogue_a, day="2027-07-01")
    soon = _paid_booking(api, client, settings, stripe_api, catalogue_a, day="2027-05-31")

    managed = api().get(f"/api/v1/manage/{ahead['manage_token']}/").json()
    assert managed["deposit"] == {"amount": 1500, "paid": 1500, "status": "paid"}
    assert managed["interest"] == {
        "amount": 9,
        "rate": "7.30",
        "since": "2027-06-01",
        "until": "2027-07-01",
    }
    assert managed["balance_due"] == 6000 - 1500 - 9

    # Held less than three months by the appointment: no interest, the balance is the rest.
    near = api().get(f"/api/v1/manage/{soon['manage_token']}/").json()
    assert near["interest"] is None and near["balance_due"] == 4500

    page = client.get(f"/manage/{ahead['manage_token']}/", HTTP_ACCEPT_LANGUAGE="fr")
    text = page.content.decode()
    assert "0,09\u00a0€" in text and "44,91\u00a0€" in text and "7,30" in text
    page = client.get(f"/manage/{ahead['manage_token']}/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "€0.09" in text and "€44.91" in text and "1 June 2027" in text


def test_money_no_longer_held_bears_no_interest(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    settings.LEGAL_INTEREST_RATE = "7.30"
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a, day="2027-07-01")
    cancelled = api().post(f"/api/v1/manage/{booking['manage_token']}/cancel/", {}, format="json")
    assert cancelled.status_code == 200
    managed = cancelled.json()
    assert managed["deposit"]["status"] == "refunded"
    assert managed["interest"] is None and managed["balance_due"] == 0
