from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Membership, Role, Salon, validate_salon_name
from .money import MoneyField
from .scoping import salon_scope
from .selectors import admin_salon_ids, salon_forget, salon_ids_run_by
from .services import membership_check, membership_remove, membership_set, salon_update

# The channels with a ready-made link (bookings.models.Source, which the booking page
# records from `?source=`); the widget records its own.
SHARE_CHANNELS = (("google", "Google"), ("instagram", "Instagram"), ("facebook", "Facebook"))


def _admin_salons(request: HttpRequest) -> list[int]:
    if not hasattr(request, "_admin_salon_ids"):
        request._admin_salon_ids = admin_salon_ids(request.user)  # type: ignore[arg-type, attr-defined]
    return request._admin_salon_ids  # type: ignore[attr-defined]


def may_admin(request: HttpRequest, salon_id: int | None = None) -> bool:
    """Superusers; otherwise owners and managers, of the given salon when one is given."""
    if request.user.is_superuser:
        return True
    salons = _admin_salons(request)
    return bool(salons) and (salon_id is None or salon_id in salons)


class ReadOnlyTenantInline(admin.TabularInline):
    """Rows of a salon's object shown on its page, never edited there (ledgers, history)."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_admin(request, getattr(obj, "salon_id", None))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TenantAdmin(admin.ModelAdmin):
    """Base admin of tenant-owned models.

    Superusers see everything. A salon's owners and managers see and edit their salons'
    objects only: the queryset comes through the scoped manager (the request runs in
    their scope), the salon field offers only their salons (and disappears when they run
    one), and another salon's object URL is a 404, like a missing one.
    """

    def _is_super(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def _may(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_admin(request, None if obj is None else self.salon_id_of(obj))

    def salon_id_of(self, obj: Any) -> int:
        return int(obj.salon_id)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._may(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    # Amount columns (integer cents) typed and shown in the currency's units.
    money_fields: tuple[str, ...] = ()

    def admin_currency(self, request: HttpRequest, obj: Any = None) -> str:
        """The currency of the object's salon, or of the salons the user runs when they
        share one (EUR otherwise, the platform's first)."""
        salon = getattr(obj, "salon", None)
        if salon is not None:
            return str(salon.currency)
        salons = Salon.objects.all()
        if not self._is_super(request):
            salons = salons.filter(pk__in=_admin_salons(request))
        currencies = list(salons.values_list("currency", flat=True).distinct()[:2])
        return currencies[0] if len(currencies) == 1 else "EUR"

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.money_fields:
            currency = self.admin_currency(request)
            return MoneyField(
                currency=currency,
                required=not db_field.blank,
                label=f"{capfirst(db_field.verbose_name)} ({currency})",
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def hides_salon(self, request: HttpRequest) -> bool:
        """A user who runs one salon is not asked which."""
        return not self._is_super(request) and len(_admin_salons(request)) == 1

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        return [f for f in fields if f != "salon"] if self.hides_salon(request) else fields

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        return [*exclude, "salon"] if self.hides_salon(request) else exclude

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "salon" and not self._is_super(request):
            kwargs["queryset"] = Salon.objects.filter(pk__in=_admin_salons(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def salon_for_new(self, request: HttpRequest) -> int | None:
        """The salon a new object goes to when the user was not asked."""
        return _admin_salons(request)[0] if self.hides_salon(request) else None

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not getattr(obj, "salon_id", None):
            obj.salon_id = self.salon_for_new(request)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Rows added inline belong to the parent's salon: without it, the database's
        row-level security refuses them (and the form does not ask)."""
        salon_id = self.salon_id_of(form.instance)
        for row in formset.save(commit=False):
            if hasattr(row, "salon_id") and row.salon_id is None:
                row.salon_id = salon_id
            row.save()
        for row in formset.deleted_objects:
            row.delete()
        formset.save_m2m()

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponseRedirect:
        # Django redirects to the index for a missing object; another salon's object must
        # be indistinguishable from a missing one, and both are a 404.
        raise Http404


def may_own(request: HttpRequest, salon_id: int | None = None) -> bool:
    """Superusers; otherwise the owners of the given salon (of any salon when none is
    given): who changes a salon's settings and its team (models.SETTINGS_ROLE, TEAM_ROLE)."""
    if request.user.is_superuser:
        return True
    if not hasattr(request, "_owned_salon_ids"):
        request._owned_salon_ids = salon_ids_run_by(request.user, role=Role.OWNER)  # type: ignore[arg-type, attr-defined]
    owned: list[int] = request._owned_salon_ids  # type: ignore[attr-defined]
    return bool(owned) and (salon_id is None or salon_id in owned)


class SalonForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            self.fields["name"].validators.append(validate_salon_name)


@admin.register(Salon)
class SalonAdmin(TenantAdmin):
    """A salon's settings: its owners change them (its Stripe account among them), its
    managers read them, as in the API."""

    form = SalonForm
    list_display = ["name", "slug", "timezone", "currency", "country"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def salon_id_of(self, obj: Any) -> int:
        return int(obj.pk)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Salon]:
        salons = super().get_queryset(request)
        return salons if self._is_super(request) else salons.filter(pk__in=_admin_salons(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [] if self._is_super(request) else ["slug"]
        return [*fields, "share_links"] if obj is not None else fields

    @admin.display(description=gettext_lazy("Share links"))
    def share_links(self, obj: Salon) -> str:
        """The salon's ready-made links for each channel, and its widget's tag."""
        book = settings.SITE_URL + reverse("book", kwargs={"salon": obj.slug})
        widget = settings.SITE_URL + reverse("widget", kwargs={"salon": obj.slug})
        helps = {
            "google": _(
                "In your Google Business Profile: Bookings, appointment links. Your own "
                "page, services first, no account to create."
            ),
            "instagram": _("In your Instagram profile: the “Book” button or your bio's link."),
            "facebook": _("On your Facebook page: the “Book now” button."),
        }
        links = [
            {"channel": channel, "label": label, "url": f"{book}?source={channel}", "help": help}
            for (channel, label), help in zip(SHARE_CHANNELS, helps.values(), strict=True)
        ]
        # The template escapes every value; the admin shows its HTML as it is.
        return mark_safe(  # noqa: S308  # nosec B308 B703
            render_to_string(
                "admin/tenants/salon/share_links.html",
                {"links": links, "snippet": f'<script src="{widget}" async></script>'},
            )
        )

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        # A read-only slug is not a field of the form: nothing to fill in.
        return dict(self.prepopulated_fields) if self._is_super(request) else {}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_own(request, None if obj is None else self.salon_id_of(obj))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            salon_forget(obj)
            return
        changed = {
            name: getattr(obj, name)
            for name in form.changed_data
            if name in {f.name for f in Salon._meta.concrete_fields}
        }
        salon_update(salon=obj, actor=request.user, **changed)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._is_super(request)  # opening a salon is the platform's decision

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_super(request)


class MembershipForm(forms.ModelForm):
    """Applies the team's rules (tenants/services.py) as form errors: a salon keeps at
    least one owner."""

    salon_for_new: int | None = None  # set by MembershipAdmin.get_form

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        salon_id = (
            self.instance.salon_id
            if self.instance.pk
            else (data["salon"].pk if data.get("salon") else self.salon_for_new)
        )
        user = self.instance.user if self.instance.pk else data.get("user")
        if salon_id is not None and user is not None and data.get("role"):
            try:
                with transaction.atomic(), salon_scope(salon_id):
                    membership_check(
                        salon=Salon.objects.get(pk=salon_id), user_id=user.pk, role=data["role"]
                    )
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    """The salon's team. Its owners change it; its managers read it (as in the API). A
    change goes through `membership_set`, a removal through `membership_remove`."""

    form = MembershipForm
    list_display = ["user", "salon", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]

    def _owns(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_own(request, None if obj is None else self.salon_id_of(obj))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._owns(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._owns(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._owns(request, obj)

    def hides_salon(self, request: HttpRequest) -> bool:
        owned = salon_ids_run_by(request.user, role=Role.OWNER)  # type: ignore[arg-type]
        return not self._is_super(request) and len(owned) <= 1

    def salon_for_new(self, request: HttpRequest) -> int | None:
        owned = salon_ids_run_by(request.user, role=Role.OWNER)  # type: ignore[arg-type]
        return owned[0] if self.hides_salon(request) and owned else None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A membership is one person's place in the salon: its person does not change.
        return ["user"] if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.salon_for_new = self.salon_for_new(request)  # type: ignore[attr-defined]
        return form

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "salon" and not self._is_super(request):
            # A team is changed by the salon's owners only: not where one is a manager.
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            if field is not None:
                owned = salon_ids_run_by(request.user, role=Role.OWNER)  # type: ignore[arg-type]
                field.queryset = Salon.objects.filter(pk__in=owned)
            return field
        if db_field.name == "user" and not self._is_super(request):
            # Only people already on the team: other salons' users stay invisible.
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(memberships__salon_id__in=_admin_salons(request))
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        salon_id = obj.salon_id if change or obj.salon_id else self.salon_for_new(request)
        if salon_id is None:
            raise PermissionDenied  # no salon this user owns
        saved = membership_set(
            salon=Salon.objects.get(pk=salon_id), user=obj.user, role=obj.role, actor=request.user
        )
        obj.pk, obj.salon_id, obj.created_at = saved.pk, saved.salon_id, saved.created_at

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        membership_remove(membership=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        refused = []
        for membership in queryset:
            try:
                membership_remove(membership=membership, actor=request.user)
            except ValidationError as exc:
                refused.append(f"{membership}: {' '.join(exc.messages)}")
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Removing the last owner is refused on the confirmation page, before anything."""
        obj = self.get_object(request, object_id)
        if (
            obj is not None
            and request.method == "POST"
            and self.has_delete_permission(request, obj)
        ):
            try:
                with transaction.atomic(), salon_scope(obj.salon_id):
                    membership_check(
                        salon=Salon.objects.get(pk=obj.salon_id), user_id=obj.user_id, role=None
                    )
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                return HttpResponseRedirect(request.path)
        return super().delete_view(request, object_id, extra_context)
