from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponseRedirect

from .models import Membership, Salon
from .selectors import admin_salon_ids, salon_forget


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

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponseRedirect:
        # Django redirects to the index for a missing object; another salon's object must
        # be indistinguishable from a missing one, and both are a 404.
        raise Http404


@admin.register(Salon)
class SalonAdmin(TenantAdmin):
    list_display = ["name", "slug", "timezone", "currency", "country"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def salon_id_of(self, obj: Any) -> int:
        return int(obj.pk)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Salon]:
        salons = super().get_queryset(request)
        return salons if self._is_super(request) else salons.filter(pk__in=_admin_salons(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if self._is_super(request) else ["slug"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        salon_forget(obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._is_super(request)  # opening a salon is the platform's decision

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_super(request)


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "salon", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "user" and not self._is_super(request):
            # Only people already on the team: other salons' users stay invisible.
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(memberships__salon_id__in=_admin_salons(request))
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
