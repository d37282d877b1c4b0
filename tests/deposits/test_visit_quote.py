"""The deposit of a visit: each service's rule on its own price, the policy's min and max
once for the whole visit, never above the visit's total, and each item's part of it."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.services import catalogue_service_save
from deposits.rules import Client, Policy, Rule, describe, quote, quote_visit, rule_in_force
from deposits.selectors import deposit_quote, deposit_quote_visit
from deposits.services import policy_set
from tenants.scoping import salon_scope

from ..factories import CustomerFactory

MARCH = dt.date(2027, 3, 1)
CUT, COLOUR = 6000, 9000
PERCENT_20 = Policy(rule=Rule("percent", 20))


def _visit(policy, *items, day=MARCH, **kw):
    """`items` as (price, override) pairs, or bare prices for services without one."""
    pairs = [item if isinstance(item, tuple) else (item, None) for item in items]
    return quote_visit(policy, items=pairs, day=day, **kw)


def test_a_percent_rule_applies_to_each_service():
    result = _visit(PERCENT_20, CUT, COLOUR)
    assert (result.amount, result.items) == (3000, (1200, 1800))
    assert (result.rule, result.source) == (Rule("percent", 20), "base")
    assert result.reason == "A deposit of 20 % of the price for each service, the salon's rule."


def test_percentages_round_half_up_per_service():
    result = _visit(Policy(rule=Rule("percent", 10)), 1005, 1005)
    assert (result.amount, result.items) == (202, (101, 101))  # not 201 on 2010


def test_a_fixed_rule_applies_to_each_service_never_above_its_price():
    result = _visit(Policy(rule=Rule("fixed", 1500)), CUT, 1000)
    assert (result.amount, result.items) == (2500, (1500, 1000))
    assert result.reason == "A deposit of €15.00 for each service, the salon's rule."


def test_the_minimum_is_paid_once_per_visit_not_per_service():
    policy = Policy(rule=Rule("percent", 10), min_amount=1000)
    assert quote(policy, price=3000, day=MARCH).amount == 1000  # alone, each pays the minimum
    assert quote(policy, price=4000, day=MARCH).amount == 1000
    result = _visit(policy, 3000, 4000)  # asked together: 300 + 400
    assert (result.amount, result.items) == (1000, (429, 571))  # by their 300:400
    assert result.reason == (
        "A deposit of 10 % of the price for each service, the salon's rule."
        " The salon's minimum of €10.00 applies once to the visit."
    )


def test_the_maximum_is_applied_once_per_visit():
    policy = Policy(rule=Rule("percent", 50), max_amount=2500)
    result = _visit(policy, CUT, 4000)  # asked: 3000 + 2000
    assert (result.amount, result.items) == (2500, (1500, 1000))
    assert result.reason.endswith(" The salon's maximum of €25.00 applies once to the visit.")


def test_a_minimum_above_the_total_asks_the_total_and_no_more():
    policy = Policy(rule=Rule("percent", 10), min_amount=5000)
    result = _visit(policy, 1000, 1500)
    assert (result.amount, result.items) == (2500, (1000, 1500))
    assert result.reason.endswith(
        " The salon's minimum of €50.00 applies once to the visit, up to the price of those"
        " services."
    )


def test_the_minimum_raised_share_never_passes_an_items_price():
    # 5,000 shared 1,000:100 would give the first item 4,545, above its price.
    policy = Policy(rule=Rule("percent", 1), min_amount=5000)
    result = _visit(policy, (1000, Rule("fixed", 1000)), 10000)
    assert (result.amount, result.items) == (5000, (1000, 4000))


def test_a_minimum_over_nothing_asked_is_shared_by_price():
    result = _visit(Policy(rule=Rule("percent", 0), min_amount=500), 1000, 3000)
    assert (result.amount, result.items) == (500, (125, 375))


def test_each_service_keeps_its_own_override_beside_the_salons_rule():
    result = _visit(PERCENT_20, CUT, (COLOUR, Rule("fixed", 3000)), (2000, Rule("none")))
    assert (result.amount, result.items) == (4200, (1200, 3000, 0))
    # The rule that decides most of the deposit speaks for the visit.
    assert (result.rule, result.source) == (Rule("fixed", 3000), "service_override")
    assert result.reason == (
        "A deposit of 20 % of the price for 1 service, the salon's rule;"
        " a deposit of €30.00 for 1 service, set for this service;"
        " no deposit for 1 service, set for this service."
    )


def test_the_clamp_takes_fixed_and_percent_amounts_wherever_they_come_from():
    policy = Policy(rule=Rule("percent", 10), min_amount=1000)
    result = _visit(policy, 3000, (5000, Rule("fixed", 200)))  # asked: 300 + 200
    assert (result.amount, result.items) == (1000, (600, 400))
    assert result.source == "base"  # the salon's rule carries the larger part
    assert result.reason == (
        "A deposit of 10 % of the price for 1 service, the salon's rule;"
        " a deposit of €2.00 for 1 service, set for this service."
        " The salon's minimum of €10.00 applies once to the visit."
    )


def test_full_prepayment_of_one_service_beside_a_percentage_of_another():
    result = _visit(PERCENT_20, (COLOUR, Rule("full")), CUT)
    assert (result.amount, result.items) == (10200, (9000, 1200))
    assert (result.rule, result.source) == (Rule("full"), "service_override")
    assert result.reason == (
        "Full prepayment for 1 service, set for this service;"
        " a deposit of 20 % of the price for 1 service, the salon's rule."
    )


def test_full_and_no_deposit_items_are_not_clamped():
    capped = Policy(rule=Rule("percent", 20), max_amount=1000)
    result = _visit(capped, (COLOUR, Rule("full")), CUT)
    assert (result.amount, result.items) == (10000, (9000, 1000))  # full stays full
    raised = Policy(rule=Rule("none"), min_amount=2000)
    assert _visit(raised, CUT, COLOUR).amount == 0
    # A minimum does not count the full item: it is reached by the others alone.
    result = _visit(Policy(rule=Rule("percent", 10), min_amount=2000), (COLOUR, Rule("full")), CUT)
    assert (result.amount, result.items) == (11000, (9000, 2000))


def test_the_ramp_step_in_force_applies_to_every_service_without_an_override():
    policy = Policy(rule=Rule("percent", 20), ramp=((MARCH, Rule("percent", 30)),))
    before = _visit(policy, CUT, COLOUR, day=dt.date(2027, 2, 28))
    assert (before.amount, before.source) == (3000, "base")
    result = _visit(policy, CUT, COLOUR, (2000, Rule("fixed", 500)))
    assert (result.amount, result.items) == (5000, (1800, 2700, 500))
    assert (result.rule, result.source) == (Rule("percent", 30), "ramp_step")
    assert result.reason == (
        "A deposit of 30 % of the price for each of 2 services, in force since 2027-03-01;"
        " a deposit of €5.00 for 1 service, set for this service."
    )


CLIENT_POLICY = Policy(
    rule=Rule("percent", 20), trusted_after_visits=5, full_prepayment_after_no_shows=2
)


@pytest.mark.parametrize("client", [Client(trusted=True), Client(visits=5)])
def test_a_trusted_client_pays_nothing_for_the_whole_visit(client):
    result = _visit(CLIENT_POLICY, CUT, (COLOUR, Rule("full")), client=client)
    assert (result.amount, result.items) == (0, (0, 0))
    assert (result.rule, result.source) == (Rule("none"), "trusted_customer")


def test_a_client_with_no_shows_pays_the_whole_visit():
    result = _visit(CLIENT_POLICY, CUT, (COLOUR, Rule("fixed", 100)), client=Client(no_shows=2))
    assert (result.amount, result.items) == (CUT + COLOUR, (CUT, COLOUR))
    assert (result.rule, result.source) == (Rule("full"), "no_show_history")
    assert result.reason == "2 missed appointments: the full price is paid when booking."


def test_a_visit_has_at_least_one_item():
    with pytest.raises(ValueError, match="at least one item"):
        quote_visit(PERCENT_20, items=[], day=MARCH)


def test_the_reason_writes_amounts_in_the_language():
    policy = Policy(rule=Rule("fixed", 1500), min_amount=4000)
    reason = _visit(policy, CUT, COLOUR, language="fr").reason
    assert "15,00\xa0€" in reason
    assert "40,00\xa0€" in reason


# Properties, over every kind of rule, clamp, ramp and client.

rules = st.one_of(
    st.just(Rule("none")),
    st.just(Rule("full")),
    st.builds(Rule, st.just("fixed"), st.integers(0, 20000)),
    st.builds(Rule, st.just("percent"), st.integers(0, 100)),
)
prices = st.integers(0, 50000)
items = st.lists(st.tuples(prices, st.none() | rules), min_size=1, max_size=6)
days = st.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31))


@st.composite
def policies(draw):
    low = draw(st.none() | st.integers(0, 20000))
    high = draw(st.none() | st.integers(low or 0, 40000))
    ramp = draw(st.lists(st.tuples(days, rules), max_size=3))
    return Policy(
        rule=draw(rules),
        min_amount=low,
        max_amount=high,
        ramp=tuple(ramp),
        trusted_after_visits=draw(st.none() | st.integers(1, 5)),
        full_prepayment_after_no_shows=draw(st.none() | st.integers(1, 3)),
    )


clients = st.none() | st.builds(
    Client, visits=st.integers(0, 8), no_shows=st.integers(0, 4), trusted=st.booleans()
)


def _quote_as_before_visits(policy, *, price, day, override=None, client=None):
    """The one-service quote as it was before visits, kept as the oracle of the one-item
    visit: a one-service booking answers exactly as it did."""
    if client is not None:
        if client.trusted:
            return (0, Rule("none"), "trusted_customer", "Trusted client: no deposit.")
        limit = policy.full_prepayment_after_no_shows
        if limit is not None and client.no_shows >= limit:
            reason = f"{client.no_shows} missed appointments: the full price is paid when booking."
            return (price, Rule("full"), "no_show_history", reason)
        visits = policy.trusted_after_visits
        if visits is not None and client.visits >= visits and client.no_shows == 0:
            reason = f"{client.visits} visits without a no-show: no deposit."
            return (0, Rule("none"), "trusted_customer", reason)

    def amount(rule):
        if rule.kind == "none":
            return 0
        if rule.kind == "full":
            return price
        value = rule.value if rule.kind == "fixed" else (price * rule.value + 50) // 100
        if policy.min_amount is not None:
            value = max(value, policy.min_amount)
        if policy.max_amount is not None:
            value = min(value, policy.max_amount)
        return max(0, min(value, price))

    if override is not None:
        return (
            amount(override),
            override,
            "service_override",
            f"{describe(override)}, set for this service.",
        )
    rule, since = rule_in_force(policy, day)
    if since is not None:
        reason = f"{describe(rule)}, in force since {since.isoformat()}."
        return (amount(rule), rule, "ramp_step", reason)
    return (amount(rule), rule, "base", f"{describe(rule)}, the salon's rule.")


@settings(max_examples=500, deadline=None)
@given(policies(), prices, st.none() | rules, days, clients)
def test_a_one_item_visit_is_the_one_service_quote(policy, price, override, day, client):
    visit = quote_visit(policy, items=[(price, override)], day=day, client=client)
    one = quote(policy, price=price, day=day, override=override, client=client)
    assert (visit.amount, visit.rule, visit.source, visit.reason) == (
        one.amount,
        one.rule,
        one.source,
        one.reason,
    )
    assert visit.items == (visit.amount,)
    before = _quote_as_before_visits(policy, price=price, day=day, override=override, client=client)
    assert (one.amount, one.rule, one.source, one.reason) == before


def _rules_of(policy, visit_items, day):
    in_force, _since = rule_in_force(policy, day)
    return [override or in_force for _price, override in visit_items]


@settings(max_examples=500, deadline=None)
@given(policies(), items, days, clients)
def test_parts_add_up_and_stay_within_each_price(policy, visit_items, day, client):
    result = quote_visit(policy, items=visit_items, day=day, client=client)
    assert sum(result.items) == result.amount
    assert len(result.items) == len(visit_items)
    for part, (price, _override) in zip(result.items, visit_items, strict=True):
        assert 0 <= part <= price
    assert result.amount <= sum(price for price, _override in visit_items)


@settings(max_examples=500, deadline=None)
@given(policies(), items, days)
def test_each_rule_on_its_price_and_the_clamp_once(policy, visit_items, day):
    result = quote_visit(policy, items=visit_items, day=day)
    rules_used = _rules_of(policy, visit_items, day)
    asked, valued_prices, valued = 0, 0, []
    for n, ((price, _override), rule) in enumerate(zip(visit_items, rules_used, strict=True)):
        if rule.kind == "none":
            assert result.items[n] == 0
        elif rule.kind == "full":
            assert result.items[n] == price
        else:
            own = rule.value if rule.kind == "fixed" else (price * rule.value + 50) // 100
            own = min(own, price)
            asked += own
            valued_prices += price
            valued.append((n, own))
    if not valued:
        return
    expected = asked
    if policy.min_amount is not None:
        expected = max(expected, policy.min_amount)
    if policy.max_amount is not None:
        expected = min(expected, policy.max_amount)
    expected = min(expected, valued_prices)
    assert sum(result.items[n] for n, _own in valued) == expected
    for n, own in valued:
        # The clamp moves every item the same way, and a lowered total is shared in
        # proportion to what each asked, to the cent.
        if expected >= asked:
            assert result.items[n] >= own
        else:
            assert result.items[n] <= own
            assert abs(result.items[n] * asked - expected * own) < asked


# The selector: the salon's policy, the services' overrides and the client, from the DB.


@pytest.mark.django_db
def test_the_salons_policy_and_overrides_quote_a_visit(catalogue_a, catalogue_b):
    salon = catalogue_a.salon
    with salon_scope(salon):
        policy_set(salon=salon, rule={"kind": "percent", "value": 10}, ramp=[], min_amount=2000)
        colour = catalogue_service_save(
            salon=salon,
            service=catalogue_a.colour,
            deposit_override={"kind": "fixed", "value": 500},
        )
        result = deposit_quote_visit(salon=salon, services=[catalogue_a.cut, colour], day=MARCH)
        alone = deposit_quote(salon=salon, service=catalogue_a.cut, day=MARCH)
        as_visit = deposit_quote_visit(salon=salon, services=[catalogue_a.cut], day=MARCH)
        trusted = CustomerFactory(salon=salon, trusted=True)
        for_trusted = deposit_quote_visit(
            salon=salon, services=[catalogue_a.cut, colour], day=MARCH, customer=trusted
        )
    # 600 + 500 asked, raised to the minimum once, shared 600:500.
    assert (result.amount, result.items) == (2000, (1091, 909))
    assert (alone.amount, alone.source) == (2000, "base")
    assert as_visit.as_quote() == alone
    assert (for_trusted.amount, for_trusted.source) == (0, "trusted_customer")
    # The other salon answers under its own policy (none: no deposit), in its currency.
    rival = catalogue_b.salon
    with salon_scope(rival):
        other = deposit_quote_visit(
            salon=rival, services=[catalogue_b.cut, catalogue_b.colour], day=MARCH
        )
    assert (other.amount, other.items, other.source) == (0, (0, 0), "base")
