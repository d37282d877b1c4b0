from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.models import Salon

from .models import DepositPolicy, RampStep
from .rules import Rule
from .selectors import policy_changed


def _parse_rule(field: str, rule: object) -> Rule:
    try:
        return Rule.parse(rule)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def policy_set(
    *, salon: Salon, rule: dict[str, Any], ramp: list[dict[str, Any]], **fields: Any
) -> DepositPolicy:
    """Replace the salon's deposit policy and its ramp (rules as API.md writes them).
    ValidationError by field."""
    base = _parse_rule("rule", rule)
    steps = [
        (step["starts_on"], _parse_rule(f"ramp.{n}.rule", step["rule"]))
        for n, step in enumerate(ramp)
    ]
    days = [step["starts_on"] for step in ramp]
    if len(set(days)) != len(days):
        raise ValidationError({"ramp": ["Two steps start on the same day."]})
    low, high = fields.get("min_amount"), fields.get("max_amount")
    if low is not None and high is not None and low > high:
        raise ValidationError({"max_amount": ["The maximum is below the minimum."]})
    with transaction.atomic():
        policy = DepositPolicy.objects.select_for_update().first() or DepositPolicy(salon=salon)
        policy.rule_kind, policy.rule_value = base.kind, base.value
        for name, value in fields.items():
            setattr(policy, name, value)
        # Each change is a new version of the terms; bookings keep the one they had.
        policy.version = (policy.version or 0) + 1 if policy.pk else 1
        policy.full_clean()
        policy.save()
        RampStep.objects.filter(policy=policy).delete()
        policy_changed(salon.pk)
        RampStep.objects.bulk_create(
            RampStep(
                salon=salon,
                policy=policy,
                starts_on=starts_on,
                rule_kind=step.kind,
                rule_value=step.value,
            )
            for starts_on, step in steps
        )
    return policy


def policy_delete(*, policy: DepositPolicy) -> None:
    """The salon's policy and its ramp go; quotes fall back to no deposit."""
    with transaction.atomic():
        policy.delete()
        policy_changed(policy.salon_id)


def policy_create_default(*, salon: Salon) -> DepositPolicy:
    """A new salon's policy: no deposit until the owner sets one; the usual terms."""
    policy, _created = DepositPolicy.objects.get_or_create(salon=salon)
    policy_changed(salon.pk)
    return policy
