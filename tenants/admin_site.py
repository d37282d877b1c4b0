from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .login import AdminLoginForm, refused_response
from .selectors import admin_salon_ids


class SalonAdminSite(admin.AdminSite):
    """The admin for the platform's superusers and for each salon's owners and managers.

    Requests run in the scope of the user's salons (TenantScopeMiddleware), and
    `TenantAdmin` grants a salon's owners and managers its objects, nothing else.
    """

    site_header = _("Acompte administration")
    site_title = _("Acompte")
    index_title = _("Your salon")
    login_form = AdminLoginForm

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        return refused_response(response, form)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> Any:
        """The apps, with the deposits' figures listed among the deposits' pages (one
        "Deposits" block on the index, not two)."""
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] == "deposits" and app["models"]:
                app["models"].insert(
                    0,
                    {
                        "name": _("What deposits recovered"),
                        "object_name": "recovered",
                        "admin_url": reverse("admin:deposits_recovered"),
                        "add_url": None,
                        "view_only": True,
                        "perms": {"view": True},
                    },
                )
        return app_list

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return bool(user.is_superuser or admin_salon_ids(user))
