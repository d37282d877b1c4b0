"""The quote function, table-driven: every rule, clamp, rounding, ramp boundary, client rule."""

import datetime as dt

import pytest

from deposits.rules import Client, Policy, Rule, quote, ramp_build, rule_amount

MARCH = dt.date(2027, 3, 1)
RAMP = (
    (MARCH, Rule("percent", 30)),
    (dt.date(2027, 6, 1), Rule("full")),
)


@pytest.mark.parametrize(
    ("rule", "price", "low", "high", "expected"),
    [
        (Rule("none"), 6000, None, None, 0),
        (Rule("none"), 6000, 500, None, 0),  # clamps apply to fixed and percent only
        (Rule("full"), 6000, None, 1000, 6000),
        (Rule("fixed", 1500), 6000, None, None, 1500),
        (Rule("fixed", 9000), 6000, None, None, 6000),  # never above the price
        (Rule("fixed", 300), 6000, 500, None, 500),  # min
        (Rule("fixed", 3000), 6000, None, 2000, 2000),  # max
        (Rule("percent", 20), 6000, None, None, 1200),
        (Rule("percent", 10), 1005, None, None, 101),  # 100.5 rounds half up
        (Rule("percent", 10), 1004, None, None, 100),  # 100.4 rounds down
        (Rule("percent", 15), 333, None, None, 50),  # 49.95
        (Rule("percent", 10), 2000, 500, None, 500),
        (Rule("percent", 50), 6000, None, 2500, 2500),
        (Rule("percent", 10), 300, 500, None, 300),  # min, but never above the price
        (Rule("percent", 0), 6000, None, None, 0),
        (Rule("percent", 100), 6000, None, None, 6000),
    ],
)
def test_rule_amounts(rule, price, low, high, expected):
    assert rule_amount(rule, price, min_amount=low, max_amount=high) == expected


@pytest.mark.parametrize(
    ("day", "amount", "source"),
    [
        (dt.date(2027, 2, 28), 1200, "base"),  # the day before the first step
        (MARCH, 1800, "ramp_step"),  # the day it starts
        (dt.date(2027, 3, 2), 1800, "ramp_step"),  # the day after
        (dt.date(2027, 5, 31), 1800, "ramp_step"),
        (dt.date(2027, 6, 1), 6000, "ramp_step"),
    ],
)
def test_ramp_boundaries(day, amount, source):
    policy = Policy(rule=Rule("percent", 20), ramp=RAMP)
    result = quote(policy, price=6000, day=day)
    assert (result.amount, result.source) == (amount, source)


def test_ramp_steps_in_any_order():
    policy = Policy(rule=Rule("none"), ramp=tuple(reversed(RAMP)))
    assert quote(policy, price=6000, day=dt.date(2027, 4, 1)).amount == 1800


def test_a_service_override_beats_the_ramp_and_is_clamped():
    policy = Policy(rule=Rule("percent", 20), ramp=RAMP, min_amount=800)
    result = quote(policy, price=6000, day=dt.date(2027, 7, 1), override=Rule("fixed", 500))
    assert (result.amount, result.source) == (800, "service_override")
    assert result.rule == Rule("fixed", 500)


@pytest.mark.parametrize(
    ("client", "amount", "source"),
    [
        (Client(), 1200, "base"),
        (Client(trusted=True), 0, "trusted_customer"),
        (Client(visits=5), 0, "trusted_customer"),
        (Client(visits=4), 1200, "base"),
        (Client(visits=9, no_shows=1), 1200, "base"),  # a no-show: not trusted by visits
        (Client(no_shows=2), 6000, "no_show_history"),
        (Client(visits=20, no_shows=2), 6000, "no_show_history"),
        (Client(trusted=True, no_shows=3), 0, "trusted_customer"),  # the salon's word wins
    ],
)
def test_client_rules(client, amount, source):
    policy = Policy(
        rule=Rule("percent", 20), trusted_after_visits=5, full_prepayment_after_no_shows=2
    )
    result = quote(policy, price=6000, day=MARCH, client=client)
    assert (result.amount, result.source) == (amount, source)


def test_client_rules_beat_a_service_override():
    policy = Policy(rule=Rule("percent", 20), full_prepayment_after_no_shows=2)
    result = quote(
        policy, price=6000, day=MARCH, override=Rule("fixed", 100), client=Client(no_shows=2)
    )
    assert (result.amount, result.source) == (6000, "no_show_history")


def test_client_rules_are_off_unless_set():
    policy = Policy(rule=Rule("percent", 20))
    assert quote(policy, price=6000, day=MARCH, client=Client(visits=50, no_shows=9)).amount == 1200


def test_every_quote_says_why():
    policy = Policy(rule=Rule("fixed", 1500), ramp=RAMP)
    assert "€15.00" in quote(policy, price=6000, day=dt.date(2027, 1, 1)).reason
    assert "2027-03-01" in quote(policy, price=6000, day=MARCH).reason


def test_ramp_helper_from_a_small_deposit_to_full_prepayment():
    steps = ramp_build(
        start=Rule("percent", 10), target=Rule("full"), months=6, first_day=dt.date(2027, 1, 31)
    )
    assert [d.isoformat() for d, _ in steps] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
        "2027-06-30",
        "2027-07-31",
    ]
    assert [r.value for _, r in steps[:-1]] == [10, 25, 40, 55, 70, 85]
    assert steps[-1][1] == Rule("full")


def test_ramp_helper_refuses_mixed_kinds():
    with pytest.raises(ValueError, match="Ramp"):
        ramp_build(start=Rule("fixed", 500), target=Rule("percent", 50), months=3, first_day=MARCH)
