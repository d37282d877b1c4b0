from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tenants.admin import ReadOnlyTenantInline, TenantAdmin
from tenants.models import Salon
from tenants.scoping import salon_scope
from tenants.selectors import admin_salon_ids

from .figures import with_figures
from .models import ConsentEvent, Customer, Purpose, Tag
from .preferences import TEXT_MAX, TIME_CHOICES, preferences_health
from .search import search_filter
from .selectors import consent_current
from .services import (
    contact_check,
    contact_normalise,
    customer_create,
    customer_erase,
    customer_merge,
    customer_update,
)


class ConsentInline(ReadOnlyTenantInline):
    model = ConsentEvent
    fields = (
        "recorded_at",
        "purpose",
        "granted",
        "text_version",
        "channel",
        "source",
        "recorded_by",
    )
    readonly_fields = fields
    verbose_name_plural = _("Consent history (the ledger is never rewritten)")


class TagFilter(admin.SimpleListFilter):
    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(tag.name, tag.name) for tag in Tag.objects.all()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(tags__name=self.value())
        return queryset


class NoShowFilter(admin.SimpleListFilter):
    title = _("no-shows")
    parameter_name = "no_shows"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("At least one")), ("no", _("None"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(no_shows__gt=0)
        if self.value() == "no":
            return queryset.filter(no_shows=0)
        return queryset


# The preferences' form fields, each stored under its key in `Customer.preferences`.
PREFERENCE_FIELDS = {
    "preferred_days": "days",
    "preferred_times": "times",
    "preferred_staff": "staff",
    "preferred_products": "products",
    "allergies": "allergies",
}
_INTEGER_KEYS = {"days", "staff"}


class CustomerAdminForm(forms.ModelForm):
    """Contact details are read like everywhere else: in the salon's country, unique.
    Preferences are fields, kept in the customer's `preferences` (customers.preferences);
    allergies only with the client's consent to keep them."""

    phone = forms.CharField(label=_("phone"), required=False, max_length=40)
    email = forms.EmailField(label=_("e-mail"), required=False, max_length=254)
    tag_names = forms.CharField(
        label=_("tags"), required=False, help_text=_("Separated by commas.")
    )
    preferred_days = forms.MultipleChoiceField(
        label=_("preferred days"),
        required=False,
        choices=[(str(day), name) for day, name in WEEKDAYS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_times = forms.MultipleChoiceField(
        label=_("preferred times of day"),
        required=False,
        choices=TIME_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_staff = forms.MultipleChoiceField(
        label=_("preferred staff"),
        required=False,
        choices=[],  # the salon's staff, set by CustomerAdmin.get_form
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_products = forms.CharField(
        label=_("products"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The products she uses or likes."),
    )
    health_consent = forms.BooleanField(
        label=_("The client agrees that the salon keeps her allergies and health notes"),
        required=False,
        help_text=_("Recorded in the consent ledger. Unticked, the allergies are forgotten."),
    )
    allergies = forms.CharField(
        label=_("allergies and health notes"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept only with the client's consent (the box above)."),
    )
    salon_for_new: int | None = None  # set by CustomerAdmin.get_form
    staff_choices: list[tuple[str, str]] = []  # set by CustomerAdmin.get_form

    class Meta:
        model = Customer
        fields = [
            "salon",
            "name",
            "phone",
            "email",
            "preferred_channel",
            "language",
            "notes",
            "trusted",
            "blocked",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "preferred_staff" in self.fields:
            field: Any = self.fields["preferred_staff"]
            field.choices = self.staff_choices
        if self.instance.pk:
            self.initial["phone"] = str(self.instance.phone) if self.instance.phone else ""
            self.initial["tag_names"] = ", ".join(t.name for t in self.instance.tags.all())
            preferences = self.instance.preferences or {}
            for name, key in PREFERENCE_FIELDS.items():
                value = preferences.get(key)
                if isinstance(value, list):
                    self.initial[name] = [str(v) for v in value]
                elif value is not None:
                    self.initial[name] = value
            self.initial["health_consent"] = consent_current(customer=self.instance)[Purpose.HEALTH]

    def preferences(self, data: dict[str, Any]) -> dict[str, Any]:
        """The preferences as stored: the fields' answers, and what other doors keep
        there that this form does not show (services, notes) untouched."""
        kept = dict(self.instance.preferences or {}) if self.instance.pk else {}
        for name, key in PREFERENCE_FIELDS.items():
            value = data.get(name)
            if key in _INTEGER_KEYS:
                value = [int(v) for v in value or []]
            elif isinstance(value, str):
                value = value.strip()
            kept[key] = value
        return {key: value for key, value in kept.items() if value not in ("", [], None)}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        salon = data.get("salon") or (
            self.instance.salon
            if self.instance.pk
            else Salon.objects.filter(pk=self.salon_for_new or 0).first()
        )
        if salon is None:
            return data
        try:
            data["phone"], data["email"] = contact_normalise(
                salon=salon, phone=data.get("phone"), email=data.get("email")
            )
            if not data["phone"] and not data["email"]:
                raise ValidationError({"phone": _("Give a phone number or an e-mail address.")})
            if self.instance.duplicate_of_id is None:  # an unproven booker's may share them
                with salon_scope(salon):
                    contact_check(
                        salon_id=salon.pk,
                        phone=data["phone"],
                        email=data["email"],
                        exclude_pk=self.instance.pk,
                    )
        except ValidationError as exc:
            self.add_error(None, exc)
        data["preferences"] = self.preferences(data)
        if preferences_health(data["preferences"]) and not data.get("health_consent"):
            self.add_error(
                "allergies",
                _(
                    "Allergies and health notes are kept only with the client's consent: "
                    "tick the box above once she has agreed."
                ),
            )
        return data


@admin.register(Customer)
class CustomerAdmin(TenantAdmin):
    list_display = [
        "__str__",
        "phone",
        "email",
        "trusted",
        "blocked",
        "visits",
        "no_shows",
        "last_seen_at",
    ]
    list_filter = [TagFilter, "trusted", "blocked", NoShowFilter, "preferred_channel"]
    search_fields = ["search_text"]
    readonly_fields = ["created_at", "last_seen_at", "erased_at", "duplicate_of"]
    form = CustomerAdminForm
    fields = [
        "salon",
        "name",
        "phone",
        "email",
        "tag_names",
        "preferred_channel",
        "language",
        "notes",
        "trusted",
        "blocked",
        *PREFERENCE_FIELDS.keys(),
        "health_consent",
        *readonly_fields,
    ]
    inlines = [ConsentInline]
    actions = ["merge_two", "erase", "merge_into_original"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        setattr(form, "salon_for_new", self.salon_for_new(request))  # noqa: B010
        salon_id = obj.salon_id if obj is not None else self.salon_for_new(request)
        setattr(form, "staff_choices", self.staff_choices(salon_id))  # noqa: B010
        return form

    def staff_choices(self, salon_id: int | None) -> list[tuple[str, str]]:
        """The salon's staff a client may prefer: the catalogue is the bookings' (an app
        above this one), whose admin fills them in (support.admin_client)."""
        return []

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(self.get_fields(request, obj))
        preferences = [
            name for name in fields if name in PREFERENCE_FIELDS or name == "health_consent"
        ]
        # The consent before what it allows.
        preferences.sort(key=lambda name: name == "allergies")
        return [
            (None, {"fields": [name for name in fields if name not in preferences]}),
            (_("Preferences"), {"fields": preferences}),
        ]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Through the services, like every other door: search text, tags, last seen.
        data = {
            name: form.cleaned_data[name]
            for name in CustomerAdminForm.Meta.fields
            if name in form.cleaned_data and name != "salon"
        }
        data["preferences"] = form.cleaned_data["preferences"]
        tags = [t for t in form.cleaned_data.get("tag_names", "").split(",") if t.strip()]
        consents = {Purpose.HEALTH.value: bool(form.cleaned_data.get("health_consent"))}
        if change:
            with salon_scope(obj.salon_id):
                customer_update(
                    customer=obj, actor=request.user, tags=tags, consents=consents, **data
                )
        else:
            salon = form.cleaned_data.get("salon") or Salon.objects.get(
                pk=self.salon_for_new(request) or 0
            )
            with salon_scope(salon):
                created = customer_create(
                    salon=salon, actor=request.user, tags=tags, consents=consents, **data
                )
            obj.pk, obj.salon_id = created.pk, created.salon_id

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        # Derived figures come in the same query as the rows (see customers.figures).
        return with_figures(super().get_queryset(request))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term:
            return queryset, False
        # National numbers are read in the salon's country when the user runs one salon.
        countries = set(
            Salon.objects.filter(pk__in=admin_salon_ids(request.user)).values_list(  # type: ignore[arg-type]
                "country", flat=True
            )
        )
        country = countries.pop() if len(countries) == 1 else None
        return queryset.filter(search_filter(search_term, country=country)), False

    @admin.display(description=_("visits"), ordering="visits")
    def visits(self, customer: Any) -> int:
        return int(customer.visits)

    @admin.display(description=_("no-shows"), ordering="no_shows")
    def no_shows(self, customer: Any) -> int:
        return int(customer.no_shows)

    @admin.action(description=_("Merge the selected possible duplicates into their client"))
    def merge_into_original(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        count = 0
        for customer in queryset.filter(duplicate_of__isnull=False).select_related("duplicate_of"):
            original = customer.duplicate_of
            if original is None:
                continue
            try:
                with salon_scope(customer.salon_id):
                    customer_merge(source=customer, into=original, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{customer}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                count += 1
        self.message_user(
            request,
            ngettext("%d client merged.", "%d clients merged.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Merge the two selected clients into one"))
    def merge_two(self, request: HttpRequest, queryset: QuerySet[Customer]) -> Any:
        """Two records of one person: a page shows both and asks which one is kept, then
        everything of the other moves to it (customers.services.customer_merge)."""
        pair = list(queryset.order_by("pk")[:3])
        if len(pair) != 2:
            self.message_user(request, _("Select exactly two clients to merge."), messages.ERROR)
            return None
        if pair[0].salon_id != pair[1].salon_id:
            self.message_user(request, _("Two salons' clients cannot be merged."), messages.ERROR)
            return None
        # The client's own record is kept rather than an unproven booker's, else the
        # older one.
        kept_pk = next((c.pk for c in pair if c.duplicate_of_id is None), pair[0].pk)
        if request.POST.get("confirm") == "yes":
            kept_pk = int(request.POST.get("keep") or 0)
            into = next((c for c in pair if c.pk == kept_pk), None)
            source = next((c for c in pair if c.pk != kept_pk), None)
            if into is None or source is None:
                self.message_user(request, _("Choose the record to keep."), messages.ERROR)
                return None
            try:
                with salon_scope(into.salon_id):
                    customer_merge(source=source, into=into, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                return None
            self.message_user(
                request,
                _("%(source)s merged into %(into)s.") % {"source": source, "into": into},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Merge two clients"),
            "opts": self.model._meta,
            "pair": pair,
            "kept_pk": kept_pk,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/customers/customer/merge_confirm.html", context)

    @admin.action(description=_("Erase the selected clients' personal data (GDPR)"))
    def erase(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        count = 0
        for customer in queryset:
            with salon_scope(customer.salon_id):
                customer_erase(customer=customer, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%d client erased.", "%d clients erased.", count) % count,
            messages.SUCCESS,
        )


@admin.register(Tag)
class TagAdmin(TenantAdmin):
    list_display = ["name", "salon"]
    search_fields = ["name"]
