"""The deposit policy's page in the admin: the rule typed as an owner says it (a whole
percentage, or an amount in euros, never cents), the ramp built by a helper and checked
(it goes up, it starts today or later, it is given whole), and what clients would pay
previewed for any date and kind of client without saving anything."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bookings.admin import TenantInline, inline_rows
from bookings.models import Service
from bookings.selectors import service_list
from core.money import CURRENCY_EXPONENTS, money_format
from tenants.admin import TenantAdmin
from tenants.models import Salon
from tenants.money import AMOUNT_MAX, MoneyField
from tenants.scoping import salon_scope

from .models import CardGuarantee, DepositPolicy, RampStep, policy_values
from .rules import (
    Client,
    Policy,
    Rule,
    VisitQuote,
    quote_visit,
    ramp_build,
    rule_amount,
    rule_in_force,
)
from .selectors import policy_get, salon_today
from .services import policy_delete, policy_set
from .simulator import policy_simulate
from .terms import terms_clause, terms_clause_text

# What the preview's kinds of client are, as the calculator sees them.
CLIENT_KINDS = {
    "new": _("a new client"),
    "trusted": _("a trusted client"),
    "no_shows": _("a client with no-shows"),
}


def rule_words(rule: Rule, currency: str, language: str) -> str:
    """A rule as an owner reads it, in the admin's language."""
    if rule.kind == "none":
        return gettext("no deposit")
    if rule.kind == "full":
        return gettext("full prepayment")
    if rule.kind == "percent":
        return gettext("%(value)s %% of the price") % {"value": rule.value}
    return gettext("%(amount)s a booking") % {
        "amount": money_format(rule.value or 0, currency, language)
    }


class RuleValueForm(forms.ModelForm):
    """A rule's value typed as the kind says: a whole percentage (30 for 30 %), or an
    amount in the salon's currency ("12,50" in French); stored as the model keeps it
    (the percentage, or cents)."""

    currency = "EUR"
    rule_value = forms.DecimalField(
        label=_("Value"),
        required=False,
        localize=True,
        min_value=Decimal(0),
        help_text=_("A percentage (30) or an amount (12.50), as the kind says."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule_value"].widget.attrs["inputmode"] = "decimal"
        if self.instance.rule_kind == "fixed" and self.instance.rule_value is not None:
            exponent = CURRENCY_EXPONENTS.get(self.currency, 2)
            self.initial["rule_value"] = Decimal(self.instance.rule_value).scaleb(-exponent)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, value = data.get("rule_kind"), data.get("rule_value")
        if "rule_value" in self.errors:
            return data
        if kind == "percent":
            if value is None or value != value.to_integral_value() or not 0 < value <= 100:
                self.add_error(
                    "rule_value", gettext("A percentage is a whole number from 1 to 100.")
                )
            else:
                data["rule_value"] = int(value)
        elif kind == "fixed":
            cents = None
            if value is not None:
                try:
                    cents = value.scaleb(CURRENCY_EXPONENTS.get(self.currency, 2))
                except InvalidOperation:
                    cents = None
            if cents is None or cents <= 0 or cents != cents.to_integral_value():
                self.add_error("rule_value", gettext("Give the amount, such as 12.50."))
            elif cents > AMOUNT_MAX:
                self.add_error("rule_value", gettext("This amount is too large."))
            else:
                data["rule_value"] = int(cents)
        elif value is not None:
            self.add_error("rule_value", gettext("No deposit and full prepayment take no value."))
        return data


class RampStepForm(RuleValueForm):
    class Meta:
        model = RampStep
        fields = ["starts_on", "rule_kind", "rule_value"]
        widgets = {"starts_on": AdminDateWidget}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A cell of the steps' table has no label of its own: the value is named after
        # its column, as the inline names the model's fields (bookings.admin.TenantInline).
        self.fields["rule_value"].widget.attrs["aria-label"] = capfirst(
            self.fields["rule_value"].label
        )


class RampStepFormSet(BaseInlineFormSet):
    """The ramp's steps: a new or changed step starts today or later (the past is kept as
    it was), and the deposit never goes down from one step to the next."""

    today: dt.date | None = None

    def clean(self) -> None:
        super().clean()
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("starts_on"):
                continue
            day, kind = data["starts_on"], data.get("rule_kind")
            if kind:
                rows.append((day, Rule(kind, data.get("rule_value"))))
            if self.today and form.has_changed() and day < self.today:
                form.add_error("starts_on", gettext("A new step starts today or later."))
        decreasing = ramp_decreases(sorted(rows, key=lambda row: row[0]))
        if decreasing is not None:
            raise forms.ValidationError(
                gettext("The deposit goes down on %(day)s: a ramp only goes up.")
                % {"day": date_format(decreasing, "DATE_FORMAT")}
            )


def _rank(rule: Rule) -> tuple[int, int] | None:
    """Where a rule stands on the way to full prepayment, when it can be compared."""
    if rule.kind == "none":
        return (0, 0)
    if rule.kind == "full":
        return (2, 0)
    if rule.kind == "percent":
        return (1, rule.value or 0)
    return None  # a fixed amount compares only with another fixed amount


def ramp_decreases(steps: list[tuple[dt.date, Rule]]) -> dt.date | None:
    """The first day the deposit goes down from the step before, if any."""
    for (_day, before), (day, after) in itertools.pairwise(steps):
        if before.kind == "fixed" and after.kind == "fixed":
            if (after.value or 0) < (before.value or 0):
                return day
            continue
        a, b = _rank(before), _rank(after)
        if a is not None and b is not None and b < a:
            return day
    return None


class RampStepInline(TenantInline):
    model = RampStep
    form = RampStepForm
    formset = RampStepFormSet
    fields = ["starts_on", "rule_kind", "rule_value"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        salon = getattr(obj, "salon", None)
        currency = salon.currency if salon else "EUR"
        form = type(formset.form.__name__, (formset.form,), {"currency": currency})
        today = salon_today(salon) if salon else None
        return type(formset.__name__, (formset,), {"form": form, "today": today})


class PolicyForm(RuleValueForm):
    """The policy, amounts in the currency's units, with a helper that builds the ramp:
    start at X %, reach Y % in N months, from a day."""

    salon: Salon | None = None
    previewing = False  # set for a "Preview" press: checked, never saved

    ramp_from = forms.IntegerField(
        label=_("Build a ramp: start at (%)"), required=False, min_value=0, max_value=100
    )
    ramp_to = forms.IntegerField(
        label=_("reach (%, 100 = full prepayment)"), required=False, min_value=0, max_value=100
    )
    ramp_months = forms.IntegerField(
        label=_("in (months)"), required=False, min_value=1, max_value=36
    )
    ramp_first_day = forms.DateField(label=_("from"), required=False, widget=AdminDateWidget)
    no_show_fee_value = forms.DecimalField(
        label=_("No-show fee value"),
        required=False,
        localize=True,
        min_value=Decimal(0),
        help_text=_("A percentage (50) or an amount (20.00), as the fee's kind says."),
    )

    class Meta:
        model = DepositPolicy
        exclude: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "card_guarantee" in self.fields:  # left out: nobody is asked for a card
            self.fields["card_guarantee"].required = False
        if self.instance.no_show_fee_kind == "fixed" and self.instance.no_show_fee_value:
            exponent = CURRENCY_EXPONENTS.get(self.currency, 2)
            self.initial["no_show_fee_value"] = Decimal(self.instance.no_show_fee_value).scaleb(
                -exponent
            )
        for name in ("min_amount", "max_amount"):
            if name in self.fields:
                field = self.fields[name]
                self.fields[name] = MoneyField(
                    currency=self.currency,
                    required=False,
                    label=f"{field.label} ({self.currency})",
                    help_text=field.help_text,
                )
        # A form sent without them (an older page) keeps the policy's words as they are.
        for name in ("deposit_kind", "withdrawal_refund"):
            if name in self.fields:
                self.fields[name].required = False

    def _fee_value(self, data: dict[str, Any]) -> None:
        """The fee's value typed as its kind says, stored as the model keeps it."""
        kind, value = data.get("no_show_fee_kind"), data.get("no_show_fee_value")
        if "no_show_fee_value" in self.errors:
            return
        if kind == "percent":
            if value is None or value != value.to_integral_value() or not 0 < value <= 100:
                self.add_error(
                    "no_show_fee_value", gettext("A percentage is a whole number from 1 to 100.")
                )
            else:
                data["no_show_fee_value"] = int(value)
        elif kind == "fixed":
            cents = value.scaleb(CURRENCY_EXPONENTS.get(self.currency, 2)) if value else None
            if cents is None or cents <= 0 or cents != cents.to_integral_value():
                self.add_error("no_show_fee_value", gettext("Give the amount, such as 12.50."))
            elif cents > AMOUNT_MAX:
                self.add_error("no_show_fee_value", gettext("This amount is too large."))
            else:
                data["no_show_fee_value"] = int(cents)
        elif value is not None:
            self.add_error(
                "no_show_fee_value", gettext("No deposit and full prepayment take no value.")
            )

    def is_valid(self) -> bool:
        self.checked = super().is_valid()
        return self.checked and not self.previewing

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("deposit_kind", "withdrawal_refund"):
            if name in self.fields and not data.get(name):
                data[name] = getattr(self.instance, name)
        if "card_guarantee" in self.fields and not data.get("card_guarantee"):
            data["card_guarantee"] = CardGuarantee.OFF
        self._fee_value(data)
        names = ("ramp_from", "ramp_to", "ramp_months", "ramp_first_day")
        given = [name for name in names if data.get(name) is not None or name in self.errors]
        if given and len(given) < len(names):
            for name in names:
                if name not in given:
                    self.add_error(
                        name,
                        gettext("A ramp needs the day its first step starts.")
                        if name == "ramp_first_day"
                        else gettext("A ramp needs this too."),
                    )
        elif given and not self.errors.keys() & set(names):
            if data["ramp_to"] <= data["ramp_from"]:
                self.add_error("ramp_to", gettext("A ramp goes up: reach more than it starts at."))
            if self.salon and data["ramp_first_day"] < salon_today(self.salon):
                self.add_error("ramp_first_day", gettext("A ramp starts today or later."))
        return data

    def built_ramp(self) -> list[tuple[dt.date, Rule]] | None:
        data = self.cleaned_data
        wanted = [data.get(k) for k in ("ramp_from", "ramp_to", "ramp_months", "ramp_first_day")]
        if any(v is None for v in wanted):
            return None
        target = Rule("full") if data["ramp_to"] == 100 else Rule("percent", data["ramp_to"])
        return ramp_build(
            start=Rule("percent", data["ramp_from"]),
            target=target,
            months=data["ramp_months"],
            first_day=data["ramp_first_day"],
        )

    def ramp_asked(self, formsets: list[Any]) -> list[tuple[dt.date, Rule]]:
        """The ramp this form asks for: the helper's, or the steps' rows."""
        rows = [row for formset in formsets for row in inline_rows(formset)]
        built = self.built_ramp()
        if built is not None:
            return built
        return sorted(
            ((r["starts_on"], Rule(r["rule_kind"], r["rule_value"])) for r in rows),
            key=lambda step: step[0],
        )


class PolicyPageAdmin(TenantAdmin):
    form = PolicyForm
    inlines = [RampStepInline]
    list_display = ["salon", "rule_text", "late_cancellation", "hold_minutes"]
    save_on_top = True  # Enter in a field saves; the preview has its own button
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "salon",
                    "rule_kind",
                    "rule_value",
                    "min_amount",
                    "max_amount",
                    "allow_full_payment",
                ]
            },
        ),
        (_("Clients"), {"fields": ["trusted_after_visits", "full_prepayment_after_no_shows"]}),
        (
            _("Cancellations and holds"),
            {
                "fields": [
                    "cancellation_window_hours",
                    "late_cancellation",
                    "credit_valid_days",
                    "hold_minutes",
                    "payment_link_hours",
                ]
            },
        ),
        (
            _("What the deposit is, in law"),
            {"fields": ["deposit_kind", "withdrawal_refund", "version"]},
        ),
        (
            _("Card on file"),
            {
                "fields": [
                    "card_guarantee",
                    "no_show_fee_kind",
                    "no_show_fee_value",
                    "refuse_prepaid_cards",
                    "card_hold",
                ],
                "description": _(
                    "A client asked for a card saves it when booking and agrees, in plain "
                    "words, that the salon may charge it up to the fee if she does not come "
                    "or cancels late. Nothing is charged at booking. After a no-show or a "
                    "late cancellation, the desk charges the fee from the booking's page; "
                    "if the card needs the client or refuses, she is sent a link to pay, "
                    "and the desk is asked to call her. The fee is the deposit rule's amount "
                    "unless you set one, never more than the price, less any deposit kept."
                ),
            },
        ),
        (
            _("Ramp helper (replaces the steps below)"),
            {"fields": ["ramp_from", "ramp_to", "ramp_months", "ramp_first_day"]},
        ),
    ]
    change_form_template = "admin/deposits/depositpolicy/change_form.html"
    radio_fields = {"deposit_kind": admin.VERTICAL, "withdrawal_refund": admin.VERTICAL}
    readonly_fields = ["version"]

    @admin.display(description=_("Deposit"))
    def rule_text(self, policy: DepositPolicy) -> str:
        return rule_words(policy.rule, policy.salon.currency, translation.get_language() or "en")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[Any] = list(super().get_fieldsets(request, obj))
        if self.hides_salon(request):
            name, options = fieldsets[0]
            fields = [f for f in options["fields"] if f != "salon"]
            fieldsets[0] = (name, {**options, "fields": fields})
        return fieldsets

    def _salon(self, request: HttpRequest, obj: Any) -> Salon | None:
        if obj is not None:
            return obj.salon
        salon_id = self.salon_for_new(request)
        return None if salon_id is None else Salon.objects.get(pk=salon_id)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        salon = self._salon(request, obj)
        attrs = {
            "salon": salon,
            "currency": salon.currency if salon else "EUR",
            "previewing": request.method == "POST" and "_preview" in request.POST,
        }
        return type(form.__name__, (form,), attrs)

    # Saved and deleted through the policy's services (deposits/services.py): the API's
    # checks, one transaction for the policy and its ramp, the cached policy moved on.

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not obj.salon_id:
            obj.salon_id = self.salon_for_new(request)
        # Nothing written yet: `save_related` saves the policy with its ramp, in one call.

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        policy = form.instance
        ramp = form.ramp_asked(formsets)
        fields = {
            f.name: getattr(policy, f.name)
            for f in DepositPolicy._meta.concrete_fields
            if f.name in form.cleaned_data and f.name not in {"salon", "rule_kind", "rule_value"}
        }
        saved = policy_set(
            salon=policy.salon,
            rule=policy.rule.as_dict(),
            ramp=[{"starts_on": day, "rule": rule.as_dict()} for day, rule in ramp],
            **fields,
        )
        policy.pk, policy.updated_at = saved.pk, saved.updated_at
        ignored = base_rule_ignored(form, ramp, policy.salon)
        if ignored:
            messages.warning(request, ignored)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        policy_delete(policy=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for policy in queryset:
            policy_delete(policy=policy)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        """The change page, with what clients would pay: under the saved policy, or, after
        "Preview", under the policy as typed (checked, not saved: nothing is written)."""
        form = context["adminform"].form
        formsets = [inline.formset for inline in context["inline_admin_formsets"]]
        salon = self._salon(request, obj)
        wanted = request.POST if request.method == "POST" else request.GET
        if salon is None or (obj is None and not form.previewing):
            return super().render_change_form(request, context, add, change, form_url, obj)
        with salon_scope(salon):
            saved, steps = policy_get(salon=salon)
        saved_ramp = [(step.starts_on, step.rule) for step in steps]
        current = simulation_shown(salon, saved, saved_ramp) if saved.pk else None
        if form.previewing:
            if getattr(form, "checked", False) and all(f.is_valid() for f in formsets):
                policy, ramp = form.instance, form.ramp_asked(formsets)
                context["preview"] = policy_preview(salon, policy, ramp, wanted)
                context["preview"]["unsaved"] = True
                context["preview"]["ignored"] = base_rule_ignored(form, ramp, salon)
                context["preview"]["simulation"] = simulation_shown(salon, policy, ramp)
                context["preview"]["current"] = current
        else:
            context["preview"] = policy_preview(salon, saved, saved_ramp, wanted)
            context["preview"]["simulation"] = current
        if saved.pk:
            context["cgv"] = cgv_versions(salon, saved, steps)
            context["cgv_url"] = reverse("salon-terms", kwargs={"salon": salon.slug})
        return super().render_change_form(request, context, add, change, form_url, obj)


def cgv_versions(
    salon: Salon, policy: DepositPolicy, steps: list[RampStep]
) -> list[dict[str, str]]:
    """The terms clause of `policy` in each language the site speaks, to copy."""
    versions = []
    for code, name in settings.LANGUAGES:
        with translation.override(code):
            clauses = terms_clause(
                policy,
                steps,
                salon_name=salon.name,
                currency=salon.currency,
                today=salon_today(salon),
            )
            versions.append({"code": code, "name": name, "text": terms_clause_text(clauses)})
    return versions


def base_rule_ignored(form: PolicyForm, ramp: list[tuple[dt.date, Rule]], salon: Salon) -> str:
    """Why a change of the base rule does nothing today (a ramp step is in force), or ""."""
    if not {"rule_kind", "rule_value"} & set(form.changed_data):
        return ""
    rule, since = rule_in_force(Policy(rule=form.instance.rule, ramp=ramp), salon_today(salon))
    if since is None:
        return ""
    return gettext(
        "The base rule you changed does not apply today: the ramp's step of %(day)s "
        "(%(rule)s) is in force. Change the ramp to change today's deposit."
    ) % {
        "day": date_format(since, "DATE_FORMAT"),
        "rule": rule_words(rule, salon.currency, translation.get_language() or "en"),
    }


def policy_preview(
    salon: Salon, policy: DepositPolicy, ramp: list[tuple[dt.date, Rule]], wanted: Any
) -> dict[str, Any]:
    """What clients pay under `policy` and `ramp` (saved or not): each active service for
    each kind of client on the chosen day, and the deposit of the chosen service (by
    default the first) at the start of each of the next twelve months, as a chart."""
    language = translation.get_language() or "en"
    today = salon_today(salon)
    day = parse_date(wanted.get("preview_date") or "") or today
    with salon_scope(salon):
        services = list(service_list(salon=salon, active_only=True))
    values = replace(policy_values(policy, []), ramp=tuple(ramp))
    clients = {
        "new": Client(),
        "trusted": Client(trusted=True),
        "no_shows": Client(no_shows=policy.full_prepayment_after_no_shows or 1),
    }

    def asked(service: Service, on: dt.date, client: Client) -> Any:
        return quote_visit(
            values,
            items=[(service.price, Rule.parse_or_none(service.deposit_override))],
            day=on,
            client=client,
            currency=salon.currency,
            language=language,
        )

    rows = []
    for service in services:
        quotes = {kind: asked(service, day, client) for kind, client in clients.items()}
        rows.append(
            {
                "service": service.name,
                "price": money_format(service.price, salon.currency, language),
                "amount": quotes["new"].amount,
                "deposit": money_format(quotes["new"].amount, salon.currency, language),
                "reason": reason_words(quotes["new"], values, day, service.price, salon),
                "kinds": [
                    money_format(quotes[kind].amount, salon.currency, language) for kind in clients
                ],
            }
        )
    chosen = wanted.get("preview_service", "")
    shown = next((s for s in services if str(s.pk) == chosen), services[0] if services else None)
    chart = []
    if shown is not None:
        months = [today] + [_month_start(today, k) for k in range(1, 12)]
        amounts = [asked(shown, on, clients["new"]).amount for on in months]
        peak = max([*amounts, 1])
        for k, (on, amount) in enumerate(zip(months, amounts, strict=True)):
            height = round(160 * amount / peak)
            chart.append(
                {
                    "x": 60 * k,
                    "height": height,
                    "y": 170 - height,
                    "label": date_format(on, "M"),
                    "day": date_format(on, "DATE_FORMAT"),
                    "amount": money_format(amount, salon.currency, language),
                }
            )
    in_force, since = rule_in_force(values, today)
    return {
        "date": day,
        "kinds": list(CLIENT_KINDS.values()),
        "rows": rows,
        "services": services,
        "shown": shown,
        "chart": chart,
        "today_rule": rule_words(in_force, salon.currency, language),
        "today_since": since,
        "ramp": [
            {"day": on, "rule": rule_words(rule, salon.currency, language)} for on, rule in ramp
        ],
    }


def reason_words(quote: VisitQuote, policy: Policy, day: dt.date, price: int, salon: Salon) -> str:
    """Why a new client is asked the preview's amount for one service, in the admin's
    language (the quote's own reason is the API's, in English): the rule and where it
    comes from, and the policy's minimum or maximum when it changes the amount."""
    language = translation.get_language() or "en"
    rule = quote.rule
    words = capfirst(rule_words(rule, salon.currency, language))
    _rule, since = rule_in_force(policy, day)
    if quote.source == "service_override":
        text = gettext("%(rule)s, set for this service.") % {"rule": words}
    elif quote.source == "ramp_step" and since is not None:
        text = gettext("%(rule)s, the ramp's step since %(day)s.") % {
            "rule": words,
            "day": date_format(since, "DATE_FORMAT"),
        }
    else:
        text = gettext("%(rule)s, the salon's rule.") % {"rule": words}
    if rule.kind in {"fixed", "percent"}:
        asked = rule_amount(rule, price, min_amount=None, max_amount=None)
        if policy.min_amount is not None and asked < policy.min_amount <= price:
            bound = gettext("The salon's minimum of %(amount)s applies.")
            text += " " + bound % {
                "amount": money_format(policy.min_amount, salon.currency, language)
            }
        elif policy.max_amount is not None and asked > policy.max_amount:
            bound = gettext("The salon's maximum of %(amount)s applies.")
            text += " " + bound % {
                "amount": money_format(policy.max_amount, salon.currency, language)
            }
    return text


def simulation_shown(
    salon: Salon, policy: DepositPolicy, ramp: list[tuple[dt.date, Rule]]
) -> dict[str, Any]:
    """The simulator's figures for `policy`, written for the owner."""
    language = translation.get_language() or "en"
    with salon_scope(salon):
        figures = policy_simulate(salon=salon, policy=policy, ramp=ramp)
    return {
        "figures": figures,
        **{
            key: money_format(getattr(figures, key), salon.currency, language)
            for key in ("asked", "kept", "credited")
        },
        "missed": figures.no_shows + figures.late_cancellations,
    }


def _month_start(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)
