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


@dataclass(frozen=True)
class VisitQuote:
    """The deposit of a visit (a booking of one or more items, each a service at a price).

    `items` is the part of `amount` each item carries, in the visit's order; they sum to
    `amount` and none is above its item's price. `rule` and `source` are those of the item
    carrying the largest part (the first of equals): for a one-item visit, exactly what
    `quote` says of that service."""

    amount: int
    items: tuple[int, ...]
    rule: Rule
    source: str  # as Quote's
    reason: str

    def as_quote(self) -> Quote:
        return Quote(self.amount, self.rule, self.source, self.reason)


@dataclass(frozen=True)
class _Amounts:
    parts: tuple[int, ...]
    asked: int  # what the fixed and percent items ask together, before min and max
    clamped: int  # the same after min and max, never above those items' prices


def _asked(rule: Rule, price: int) -> int:
    """What a fixed or percent rule asks on this price before the policy's min and max;
    percentages round half up to the cent; never above the price."""
    value = rule.value or 0
    amount = value if rule.kind == "fixed" else (price * value + 50) // 100
    return max(0, min(amount, price))


def _amounts(
    lines: Sequence[tuple[int, Rule]], *, min_amount: int | None, max_amount: int | None
) -> _Amounts:
    """Each line's part of the deposit under its own rule. `none` asks nothing and `full`
    the price; fixed and percent lines ask their amount, and `min_amount`/`max_amount`
    clamp what they ask together, once, never above their prices together."""
    parts = [price if rule.kind == "full" else 0 for price, rule in lines]
    valued = [n for n, (_price, rule) in enumerate(lines) if rule.kind in VALUED]
    asked = [_asked(lines[n][1], lines[n][0]) for n in valued]
    prices = [lines[n][0] for n in valued]
    clamped = sum(asked)
    if valued:
        if min_amount is not None:
            clamped = max(clamped, min_amount)
        if max_amount is not None:
            clamped = min(clamped, max_amount)
        clamped = max(0, min(clamped, sum(prices)))
    for n, part in zip(valued, _share(clamped, asked, prices), strict=True):
        parts[n] = part
    return _Amounts(tuple(parts), sum(asked), clamped)


def _share(total: int, weights: Sequence[int], caps: Sequence[int]) -> list[int]:
    """`total` (at most the sum of `caps`) in whole cents, in proportion to `weights` (to
    `caps` where the weights left are all 0), none above its cap: a share that would pass
    its cap is the cap, and the rest is shared among the others again; the cents left by
    rounding down go to the largest remainders, the first of equals first."""
    parts: list[int | None] = [None] * len(caps)
    free = list(range(len(caps)))
    left = total
    while True:
        scale = list(weights) if any(weights[n] for n in free) else list(caps)
        whole = sum(scale[n] for n in free)
        over = [n for n in free if left * scale[n] > caps[n] * whole]
        if not over:
            break
        for n in over:
            parts[n] = caps[n]
            left -= caps[n]
        free = [n for n in free if n not in over]
    if whole == 0:  # nothing left to share: every cap left is 0, and so is `left`
        return [0 if p is None else p for p in parts]
    shares = {n: divmod(left * scale[n], whole) for n in free}
    for n, (floor, _rest) in shares.items():
        parts[n] = floor
    cents = left - sum(floor for floor, _rest in shares.values())
    for n in sorted(free, key=lambda n: -shares[n][1])[:cents]:
        parts[n] = shares[n][0] + 1
    return [0 if p is None else p for p in parts]


def rule_amount(rule: Rule, price: int, *, min_amount: int | None, max_amount: int | None) -> int:
    """What a rule asks on this price: percentages round half up to the cent; fixed and
    percent rules are clamped by min and max; nothing is ever above the price."""
    return _amounts([(price, rule)], min_amount=min_amount, max_amount=max_amount).parts[0]


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
    """What is due as deposit for a service at `price` booked on `day`: the quote of a
    visit of that one service (`quote_visit`).

    The client's own record comes first (marked trusted by staff; too many no-shows;
    trusted after enough visits without one), then the service's override, then the ramp
    step in force, then the base rule.
    """
    return quote_visit(
        policy,
        items=[(price, override)],
        day=day,
        client=client,
        currency=currency,
        language=language,
    ).as_quote()


def quote_visit(
    policy: Policy,
    *,
    items: Sequence[tuple[int, Rule | None]],
    day: dt.date,
    client: Client | None = None,
    currency: str = "EUR",
    language: str = "en",
) -> VisitQuote:
    """What is due as deposit for a visit booked on `day`, its `items` each a service's
    (price, deposit override or None), in the visit's order.

    The client's own record comes first, for the whole visit, as in `quote`. Otherwise
    each item's rule is its service's override, else the ramp step in force, else the
    base rule; the policy's min and max clamp what the fixed and percent items ask
    together, once for the visit (two cheap services do not pay the minimum twice); no
    item pays more than its price, so the visit never more than its total.
    """
    if not items:
        raise ValueError("A visit has at least one item.")
    prices = tuple(price for price, _override in items)
    if client is not None:
        if client.trusted:
            return _uniform(prices, 0, "trusted_customer", "Trusted client: no deposit.")
        limit = policy.full_prepayment_after_no_shows
        if limit is not None and client.no_shows >= limit:
            reason = f"{client.no_shows} missed appointments: the full price is paid when booking."
            return _uniform(prices, None, "no_show_history", reason)
        visits = policy.trusted_after_visits
        if visits is not None and client.visits >= visits and client.no_shows == 0:
            reason = f"{client.visits} visits without a no-show: no deposit."
            return _uniform(prices, 0, "trusted_customer", reason)
    in_force, since = rule_in_force(policy, day)
    lines = [
        (override, "service_override")
        if override is not None
        else (in_force, "base" if since is None else "ramp_step")
        for _price, override in items
    ]
    amounts = _amounts(
        [(price, rule) for price, (rule, _source) in zip(prices, lines, strict=True)],
        min_amount=policy.min_amount,
        max_amount=policy.max_amount,
    )
    # The rule that decides most of the deposit speaks for the visit.
    largest = max(range(len(lines)), key=lambda n: (amounts.parts[n], -n))
    rule, source = lines[largest]
    say = _Sayer(currency, language, since)
    if len(items) == 1:
        reason = say.single(rule, source)
    else:
        reason = say.several(lines) + say.clamp(policy, amounts)
    return VisitQuote(sum(amounts.parts), amounts.parts, rule, source, reason)


def _uniform(prices: tuple[int, ...], amount: int | None, source: str, reason: str) -> VisitQuote:
    """The client's record decides the visit: nothing (`amount` 0) or every price (None)."""
    parts = prices if amount is None else tuple(0 for _ in prices)
    rule = Rule("full") if amount is None else Rule("none")
    return VisitQuote(sum(parts), parts, rule, source, reason)


@dataclass(frozen=True)
class _Sayer:
    """The reasons of a quote, in English, amounts in `language`'s money format."""

    currency: str
    language: str
    since: dt.date | None

    def _rule(self, rule: Rule) -> str:
        return describe(rule, self.currency, self.language)

    def _money(self, cents: int) -> str:
        return money_format(cents, self.currency, self.language)

    def _whence(self, source: str, services: int) -> str:
        if source == "service_override":
            return "set for this service" if services == 1 else "set for these services"
        if source == "ramp_step" and self.since is not None:
            return f"in force since {self.since.isoformat()}"
        return "the salon's rule"

    def single(self, rule: Rule, source: str) -> str:
        return f"{self._rule(rule)}, {self._whence(source, 1)}."

    def several(self, lines: Sequence[tuple[Rule, str]]) -> str:
        """One clause per rule, in the order the visit first meets it: "A deposit of
        €30.00 for 1 service, set for this service; a deposit of 20 % of the price for
        each of 2 services, the salon's rule." """
        groups: dict[tuple[Rule, str], int] = {}
        for line in lines:
            groups[line] = groups.get(line, 0) + 1
        if len(groups) == 1:
            (rule, source), count = next(iter(groups.items()))
            each = " for each service" if rule.kind in VALUED else ""
            return f"{self._rule(rule)}{each}, {self._whence(source, count)}."
        clauses: list[str] = []
        for (rule, source), count in groups.items():
            services = "1 service" if count == 1 else f"{count} services"
            each = "each of " if count > 1 and rule.kind in VALUED else ""
            words = self._rule(rule)
            if clauses:  # "No deposit", "A deposit…", "Full prepayment" go on in lower case
                words = words[0].lower() + words[1:]
            clauses.append(f"{words} for {each}{services}, {self._whence(source, count)}")
        return "; ".join(clauses) + "."

    def clamp(self, policy: Policy, amounts: _Amounts) -> str:
        """The min or max, when it changed what the fixed and percent items ask."""
        if amounts.clamped > amounts.asked and policy.min_amount is not None:
            bound, up_to = f"minimum of {self._money(policy.min_amount)}", ""
            if amounts.clamped < policy.min_amount:
                up_to = ", up to the price of those services"
        elif amounts.clamped < amounts.asked and policy.max_amount is not None:
            bound, up_to = f"maximum of {self._money(policy.max_amount)}", ""
        else:
            return ""
        return f" The salon's {bound} applies once to the visit{up_to}."


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
