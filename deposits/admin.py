from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from bookings.admin import BookingAdmin, TenantInline, inline_rows
from bookings.models import Booking
from bookings.selectors import service_list
from core.money import money_format
from tenants.admin import ReadOnlyTenantInline, TenantAdmin, may_admin
from tenants.models import Salon
from tenants.scoping import salon_scope
from tenants.selectors import admin_salon_ids

from .models import CreditEntry, DepositPolicy, Payment, RampStep, Refund
from .payments import booking_cancel_with_money
from .recovered import Figures, deposits_recovered
from .rules import Rule, ramp_build
from .selectors import deposit_quote, salon_today
from .services import policy_delete, policy_set


class RampStepInline(TenantInline):
    model = RampStep
    fields = ["starts_on", "rule_kind", "rule_value"]


class PolicyForm(forms.ModelForm):
    """The policy, with a helper that builds the ramp: start at X %, reach Y % in N months."""

    ramp_from = forms.IntegerField(
        label=_("Build a ramp: start at (%)"), required=False, min_value=0, max_value=100
    )
    ramp_to = forms.IntegerField(
        label=_("reach (%, 100 = full prepayment)"), required=False, min_value=0, max_value=100
    )
    ramp_months = forms.IntegerField(
        label=_("in (months)"), required=False, min_value=1, max_value=36
    )
    ramp_first_day = forms.DateField(label=_("from"), required=False)

    class Meta:
        model = DepositPolicy
        exclude: list[str] = []

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


@admin.register(DepositPolicy)
class DepositPolicyAdmin(TenantAdmin):
    form = PolicyForm
    inlines = [RampStepInline]
    list_display = ["salon", "rule_kind", "rule_value", "late_cancellation", "hold_minutes"]
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
            _("Ramp helper (replaces the steps below)"),
            {"fields": ["ramp_from", "ramp_to", "ramp_months", "ramp_first_day"]},
        ),
    ]
    change_form_template = "admin/deposits/depositpolicy/change_form.html"

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[Any] = list(super().get_fieldsets(request, obj))
        if self.hides_salon(request):
            name, options = fieldsets[0]
            fields = [f for f in options["fields"] if f != "salon"]
            fieldsets[0] = (name, {**options, "fields": fields})
        return fieldsets

    # Saved and deleted through the policy's services (deposits/services.py): the API's
    # checks, one transaction for the policy and its ramp, the cached policy moved on.

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not obj.salon_id:
            obj.salon_id = self.salon_for_new(request)
        # Nothing written yet: `save_related` saves the policy with its ramp, in one call.

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        policy = form.instance
        rows = [row for formset in formsets for row in inline_rows(formset)]
        built = form.built_ramp()
        ramp = (
            [{"starts_on": day, "rule": rule.as_dict()} for day, rule in built]
            if built is not None
            else [
                {
                    "starts_on": r["starts_on"],
                    "rule": {"kind": r["rule_kind"], "value": r["rule_value"]},
                }
                for r in rows
            ]
        )
        fields = {
            f.name: getattr(policy, f.name)
            for f in DepositPolicy._meta.concrete_fields
            if f.name in form.cleaned_data and f.name not in {"salon", "rule_kind", "rule_value"}
        }
        saved = policy_set(salon=policy.salon, rule=policy.rule.as_dict(), ramp=ramp, **fields)
        policy.pk, policy.updated_at = saved.pk, saved.updated_at

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        policy_delete(policy=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for policy in queryset:
            policy_delete(policy=policy)

    def get_urls(self) -> list[Any]:
        recovered = path(
            "recovered/", self.admin_site.admin_view(self.recovered_view), name="deposits_recovered"
        )
        return [recovered, *super().get_urls()]

    def recovered_view(self, request: HttpRequest) -> HttpResponse:
        """What deposits recovered: no-shows, money kept, refunded, credited, by month and
        by ramp step, for one of the user's salons (`?salon=<id>` when they run several)."""
        salon_ids = sorted(
            Salon.objects.values_list("pk", flat=True)
            if request.user.is_superuser
            else admin_salon_ids(request.user)  # type: ignore[arg-type]
        )
        wanted = request.GET.get("salon", "")
        salon_id = int(wanted) if wanted.isascii() and wanted.isdigit() else None
        if salon_id not in salon_ids:
            salon_id = salon_ids[0] if salon_ids else None
        if salon_id is None or not may_admin(request, salon_id):
            raise PermissionDenied
        salon = Salon.objects.get(pk=salon_id)
        with salon_scope(salon):
            recovery = deposits_recovered(salon=salon)
        peak = max([m.paid for m in recovery.months] + [1])

        def row(figures: Figures) -> dict[str, Any]:
            rate = figures.no_show_rate
            return {
                "label": figures.label,
                "appointments": figures.appointments,
                "no_shows": figures.no_shows,
                "cancelled": figures.cancelled,
                "rate": "-" if rate is None else f"{100 * rate:.1f} %",
                **{
                    key: _money(getattr(figures, key), salon.currency)
                    for key in ("paid", "kept", "refunded", "credited")
                },
                # Bar heights of the chart, out of 200 px.
                "paid_h": (paid := round(200 * figures.paid / peak)),
                "paid_y": 200 - paid,
                "kept_h": (kept := round(200 * figures.kept / peak)),
                "kept_y": 200 - kept,
            }

        context = {
            **self.admin_site.each_context(request),
            "title": _("What deposits recovered"),
            "salon": salon,
            "months": [row(m) for m in recovery.months],
            "steps": [row(s) for s in recovery.steps],
            "width": 100 * len(recovery.months),
            "outstanding": _money(recovery.credit_outstanding, salon.currency),
            "salons": Salon.objects.filter(pk__in=salon_ids) if len(salon_ids) > 1 else [],
        }
        return TemplateResponse(request, "admin/deposits/recovered.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        policy = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if policy is not None:
            with salon_scope(policy.salon_id):
                context["preview"] = self.preview(request, policy)
        return super().change_view(request, object_id, form_url, extra_context=context)

    def preview(self, request: HttpRequest, policy: DepositPolicy) -> dict[str, Any]:
        """What a new client pays for each service on the chosen date (the API's quote)."""
        salon = policy.salon
        day = parse_date(request.GET.get("preview_date") or "") or salon_today(salon)
        rows = []
        for service in service_list(salon=salon, active_only=True):
            quote = deposit_quote(salon=salon, service=service, day=day)
            rows.append(
                {
                    "service": service.name,
                    "price": _money(service.price, salon.currency),
                    "amount": quote.amount,
                    "deposit": _money(quote.amount, salon.currency),
                    "reason": quote.reason,
                }
            )
        return {"date": day, "rows": rows}


class RefundInline(ReadOnlyTenantInline):
    model = Refund
    fields = ("created_at", "amount_text", "reason", "status", "refund_id")
    readonly_fields = fields

    @admin.display(description=_("Amount"))
    def amount_text(self, refund: Refund) -> str:
        return _money(refund.amount, refund.payment.currency)


@admin.register(Payment)
class PaymentAdmin(TenantAdmin):
    """Payments are taken by the checkout and settled by the provider's events: the
    admin shows them, it does not edit them."""

    list_display = ["booking", "kind", "amount_text", "status", "outcome", "provider", "created_at"]
    list_filter = ["status", "outcome", "kind", "provider"]
    search_fields = ["intent_id", "booking__reference"]
    readonly_fields = (
        "booking",
        "kind",
        "amount_text",
        "status",
        "outcome",
        "provider",
        "intent_id",
        "account",
        "created_at",
        "paid_at",
        "recorded_by",
        "note",
    )
    fields = readonly_fields
    inlines = [RefundInline]

    @admin.display(description=_("Amount"), ordering="amount")
    def amount_text(self, payment: Payment) -> str:
        return _money(payment.amount, payment.currency)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CreditEntry)
class CreditEntryAdmin(TenantAdmin):
    """The credit ledger, read only: entries are written by cancellations and bookings."""

    list_display = ["customer", "kind", "amount_text", "expires_at", "created_at"]
    list_filter = ["kind"]
    readonly_fields = (
        "customer",
        "kind",
        "amount_text",
        "grant",
        "booking",
        "payment",
        "expires_at",
        "created_at",
    )
    fields = readonly_fields

    @admin.display(description=_("Amount"), ordering="amount")
    def amount_text(self, entry: CreditEntry) -> str:
        return _money(entry.amount, entry.currency)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BookingMoneyAdmin(BookingAdmin):
    """The bookings' admin, with the salon's cancellation, which refunds what the client
    paid in full, as the desk's and the staff API's do (one service for all three)."""

    actions = ["cancel", *BookingAdmin.actions]

    @admin.action(description=_("Cancel (by the salon)"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply(
            request,
            queryset,
            lambda b: booking_cancel_with_money(
                booking=b, by_salon=True, actor=request.user, reason="admin"
            ),
        )


admin.site.unregister(Booking)
admin.site.register(Booking, BookingMoneyAdmin)


def _money(cents: int, currency: str) -> str:
    """An amount in the admin's language, as every other page writes it."""
    return money_format(cents, currency, translation.get_language() or "en")
