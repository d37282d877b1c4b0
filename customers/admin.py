from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tenants.admin import ReadOnlyTenantInline, TenantAdmin
from tenants.models import Salon
from tenants.scoping import salon_scope
from tenants.selectors import admin_salon_ids

from .figures import with_figures
from .models import ConsentEvent, Customer, Tag
from .search import search_filter
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


class CustomerAdminForm(forms.ModelForm):
    """Contact details are read like everywhere else: in the salon's country, unique."""

    phone = forms.CharField(label=_("phone"), required=False, max_length=40)
    email = forms.EmailField(label=_("e-mail"), required=False, max_length=254)
    tag_names = forms.CharField(
        label=_("tags"), required=False, help_text=_("Separated by commas.")
    )
    salon_for_new: int | None = None  # set by CustomerAdmin.get_form

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
            "preferences",
            "trusted",
            "blocked",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["phone"] = str(self.instance.phone) if self.instance.phone else ""
            self.initial["tag_names"] = ", ".join(t.name for t in self.instance.tags.all())

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
        "preferences",
        "trusted",
        "blocked",
        *readonly_fields,
    ]
    inlines = [ConsentInline]
    actions = ["erase", "merge_into_original"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        setattr(form, "salon_for_new", self.salon_for_new(request))  # noqa: B010
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Through the services, like every other door: search text, tags, last seen.
        data = {
            name: form.cleaned_data[name]
            for name in CustomerAdminForm.Meta.fields
            if name in form.cleaned_data and name != "salon"
        }
        tags = [t for t in form.cleaned_data.get("tag_names", "").split(",") if t.strip()]
        if change:
            with salon_scope(obj.salon_id):
                customer_update(customer=obj, actor=request.user, tags=tags, **data)
        else:
            salon = form.cleaned_data.get("salon") or Salon.objects.get(
                pk=self.salon_for_new(request) or 0
            )
            with salon_scope(salon):
                created = customer_create(salon=salon, actor=request.user, tags=tags, **data)
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
