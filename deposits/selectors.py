import datetime as dt

from django.utils import timezone

from bookings.models import Service
from customers.models import Customer
from customers.selectors import customer_get
from tenants.models import Salon

from .models import DepositPolicy, LateCancellation, RampStep, policy_values
from .rules import Client, Quote, Rule, describe, money, quote, rule_in_force


def policy_get(*, salon: Salon) -> tuple[DepositPolicy, list[RampStep]]:
    """The salon's policy and ramp; an unsaved default (no deposit) when it has none."""
    policy = DepositPolicy.objects.with_scope(salon=salon.pk).filter(salon=salon).first()
    if policy is None:
        return DepositPolicy(salon=salon), []
    return policy, list(RampStep.objects.with_scope(salon=salon.pk).filter(policy=policy))


def salon_today(salon: Salon) -> dt.date:
    return timezone.now().astimezone(salon.tz).date()


def deposit_quote(
    *, salon: Salon, service: Service, day: dt.date, customer: Customer | None = None,
    policy: tuple[DepositPolicy, list[RampStep]] | None = None,
) -> Quote:  # fmt: skip
    """What a client (a new one when None) would pay as deposit for `service` on `day`."""
    policy_row, steps = policy or policy_get(salon=salon)
    client = None
    if customer is not None:
        record = customer_get(salon=salon, pk=customer.pk) or customer
        client = Client(
            visits=int(getattr(record, "visits", 0)),
            no_shows=int(getattr(record, "no_shows", 0)),
            trusted=record.trusted,
        )
    return quote(
        policy_values(policy_row, steps), price=service.price, day=day,
        override=Rule.from_dict(service.deposit_override), client=client,
        currency=salon.currency,
    )  # fmt: skip


def deposits_today(*, salon: Salon, services: list[Service]) -> dict[int, int]:
    """What a new client booking now pays for each service (two queries for all)."""
    policy = policy_get(salon=salon)
    today = salon_today(salon)
    return {
        s.pk: deposit_quote(salon=salon, service=s, day=today, policy=policy).amount
        for s in services
    }


def deposit_terms(*, salon: Salon) -> str:
    """The policy in force today, in one sentence for clients."""
    policy, steps = policy_get(salon=salon)
    rule, _since = rule_in_force(policy_values(policy, steps), salon_today(salon))
    if rule.kind == "none":
        return "No deposit is asked when booking online."
    parts = [f"{describe(rule, salon.currency)} is paid when booking online"]
    if rule.kind in {"fixed", "percent"}:
        if policy.min_amount is not None:
            parts.append(f"at least {money(policy.min_amount, salon.currency)}")
        if policy.max_amount is not None:
            parts.append(f"at most {money(policy.max_amount, salon.currency)}")
    sentence = ", ".join(parts) + "."
    sentence += (
        f" Cancel at least {policy.cancellation_window_hours} hours ahead and it is refunded"
        " or kept as credit, as you choose;"
    )
    if policy.late_cancellation == LateCancellation.CREDIT:
        sentence += (
            f" later, it becomes credit for a new appointment within "
            f"{policy.credit_valid_days} days."
        )
    else:
        sentence += " later, the salon keeps it."
    if policy.allow_full_payment:
        sentence += " You may also pay the full price now."
    return sentence
