"""A deposit rule as one validated value.

The deposit policy's rules (deposits/) and a service's `deposit_override` (the catalogue,
here) are the same thing, checked in one place: `Rule.parse`. It lives with the catalogue,
the lower of the two apps, and deposits/rules.py computes with it."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenants.money import AMOUNT_MAX

KINDS = ("none", "fixed", "percent", "full")
# The kinds that take a value (cents for fixed, 0..100 for percent), and those that do not.
VALUED = ("fixed", "percent")


@dataclass(frozen=True)
class Rule:
    kind: str
    value: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "value": self.value}

    @classmethod
    def parse(cls, data: object) -> "Rule":
        """An amount rule as API.md writes it (`{"kind": "none"}`, `{"kind": "fixed",
        "value": cents}`, `{"kind": "percent", "value": 0..100}`, `{"kind": "full"}`), checked.

        The one place a rule is validated: the policy's columns, a service's
        `deposit_override`, the API, the admin and the services all come through here. A
        ValidationError says what is wrong, by key (`kind`, `value`) when it is one key's.
        """
        if not isinstance(data, dict) or "kind" not in data:
            raise ValidationError(
                _('Give {"kind": "none" | "fixed" | "percent" | "full", …}.'), code="invalid"
            )
        if set(data) - {"kind", "value"}:
            raise ValidationError(
                _("An amount rule has only a kind and a value."), code="unexpected_keys"
            )
        kind, value = data["kind"], data.get("value")
        if kind not in KINDS:
            raise ValidationError(
                {
                    "kind": ValidationError(
                        _('Give {"kind": "none" | "fixed" | "percent" | "full", …}.'),
                        code="invalid_choice",
                    )
                }
            )
        if kind not in VALUED:
            if value is not None:
                raise ValidationError(
                    {
                        "value": ValidationError(
                            _("No deposit and full prepayment take no value."), code="no_value"
                        )
                    }
                )
            return cls(kind)
        if value is None:
            raise ValidationError(
                {
                    "value": ValidationError(
                        _("A fixed or percent rule needs a value."), code="required"
                    )
                }
            )
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValidationError(
                {
                    "value": ValidationError(
                        _("A fixed or percent rule needs a whole, positive value."),
                        code="invalid",
                    )
                }
            )
        if kind == "percent" and value > 100:
            raise ValidationError(
                {"value": ValidationError(_("A percentage is at most 100."), code="max_value")}
            )
        if value > AMOUNT_MAX:
            raise ValidationError(
                {
                    "value": ValidationError(
                        _("An amount is at most %(max)d (in cents)."),
                        code="max_value",
                        params={"max": AMOUNT_MAX},
                    )
                }
            )
        return cls(kind, value)

    @classmethod
    def parse_or_none(cls, data: object) -> "Rule | None":
        """`null` is no rule (a service without an override); anything else is parsed."""
        return None if data is None else cls.parse(data)
