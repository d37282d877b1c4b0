"""The deposit calculator: plain functions over plain values (DESIGN.md, "The deposit
policy"). Amounts are integer cents; days are salon-local dates."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bookings.rules import KINDS as KINDS
from bookings.rules import VALUED as VALUED
from bookings.rules import Rule as Rule
from core.money import money_format


@dataclass(frozen=True)
class Policy:
    rule: Rule
    min_amount: int | None = None
    max_amount: int | None = None
    ramp: Sequence[tuple[dt.date, Rule]] = ()
    trusted_after_visits: int | None = None
    full_prepayment_after_no_shows: int | None = None


@dataclass(frozen=True)
class Client:
    visits: int = 0
    no_shows: int = 0
    trusted: bool = False


@dataclass(frozen=True)
class Quote:
    amount: int
    rule: Rule
    source: str  # base, ramp_step, service_override, trusted_customer, no_show_history
    reason: str


def rule_amount(rule: Rule, price: int, *, min_amount: int | None, max_amount: int | None) -> int:
    """What a rule asks on this price: percentages round half up to the cent; fixed and
    percent rules are clamped by min and max; nothing is ever above the price."""
    if rule.kind == "none":
        return 0
    if rule.kind == "full":
        return price
    value = rule.value or 0
    amount = value if rule.kind == "fixed" else (price * value + 50) // 100
    if min_amount is not None:
        amount = max(amount, min_amount)
    if max_amount is not None:
        amount = min(amount, max_amount)
    return max(0, min(amount, price))


def rule_in_force(policy: Policy, day: dt.date) -> tuple[Rule, dt.date | None]:
    """The ramp step with the latest start on or before `day`; before the first, the base."""
    current: tuple[Rule, dt.date | None] = (policy.rule, None)
    for starts_on, rule in sorted(policy.ramp, key=lambda step: step[0]):
        if starts_on <= day:
            current = (rule, starts_on)
    return current


def quote(
    policy: Policy,
    *,
    price: int,
    day: dt.date,
    override: Rule | None = None,
    client: Client | None = None,
    currency: str = "EUR",
    language: str = "en",
) -> Quote:
    """What is due as deposit for a service at `price` booked on `day`.

    The client's own record comes first (marked trusted by staff; too many no-shows;
    trusted after enough visits without one), then the service's override, then the ramp
    step in force, then the base rule.
    """
    clamp = {"min_amount": policy.min_amount, "max_amount": policy.max_amount}
    if client is not None:
        if client.trusted:
            return Quote(0, Rule("none"), "trusted_customer", "Trusted client: no deposit.")
        limit = policy.full_prepayment_after_no_shows
        if limit is not None and client.no_shows >= limit:
            return Quote(
                price,
                Rule("full"),
                "no_show_history",
                f"{client.no_shows} missed appointments: the full price is paid when booking.",
            )
        visits = policy.trusted_after_visits
        if visits is not None and client.visits >= visits and client.no_shows == 0:
            return Quote(
                0,
                Rule("none"),
                "trusted_customer",
                f"{client.visits} visits without a no-show: no deposit.",
            )
    if override is not None:
        amount = rule_amount(override, price, **clamp)
        reason = f"{describe(override, currency, language)}, set for this service."
        return Quote(amount, override, "service_override", reason)
    rule, since = rule_in_force(policy, day)
    amount = rule_amount(rule, price, **clamp)
    if since is not None:
        reason = f"{describe(rule, currency, language)}, in force since {since.isoformat()}."
        return Quote(amount, rule, "ramp_step", reason)
    return Quote(amount, rule, "base", f"{describe(rule, currency, language)}, the salon's rule.")


def describe(rule: Rule, currency: str = "EUR", language: str = "en") -> str:
    """The rule in words, its amount in `language`'s own money format."""
    if rule.kind == "none":
        return "No deposit"
    if rule.kind == "full":
        return "Full prepayment"
    if rule.kind == "percent":
        return f"A deposit of {rule.value} % of the price"
    return f"A deposit of {money_format(rule.value or 0, currency, language)}"


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def ramp_build(
    *, start: Rule, target: Rule, months: int, first_day: dt.date
) -> list[tuple[dt.date, Rule]]:
    """ "Start at X, reach Y in N months": one step a month, values evenly spaced.

    Percentages ramp to a percentage or to full prepayment (taken as 100 %); fixed
    amounts ramp to a fixed amount. The last step is the target itself.
    """
    if months < 1:
        raise ValueError("A ramp lasts at least a month.")
    if start.kind == "percent" and target.kind in {"percent", "full"}:
        a, b = start.value or 0, 100 if target.kind == "full" else (target.value or 0)
        kind = "percent"
    elif start.kind == "fixed" and target.kind == "fixed":
        a, b, kind = start.value or 0, target.value or 0, "fixed"
    else:
        raise ValueError("Ramp from a percentage to a percentage or full, or fixed to fixed.")
    steps = []
    for k in range(months + 1):
        day = _add_months(first_day, k)
        if k == months:
            steps.append((day, target))
        else:
            steps.append((day, Rule(kind, a + (b - a) * k // months)))
    return steps
