from typing import Any

from django.http import HttpRequest
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from tenants.models import Role, Salon, role_at_least
from tenants.selectors import membership_role


def request_salon(request: Request | HttpRequest) -> Salon:
    """The salon the request is for, resolved by TenantScopeMiddleware from the URL."""
    salon = getattr(request, "salon", None)
    if not isinstance(salon, Salon):
        raise LookupError("This URL names no salon.")
    return salon


def request_role(request: Request) -> str | None:
    """The authenticated user's role in `request.salon`, looked up once per request."""
    if not hasattr(request, "_salon_role"):
        user = request.user
        request._salon_role = (  # type: ignore[attr-defined]
            membership_role(user=user, salon=request_salon(request))
            if user.is_authenticated
            else None
        )
    return request._salon_role  # type: ignore[attr-defined]


class SalonRole(BasePermission):
    """Members of the request's salon whose role reaches what the view asks.

    A view sets `read_role` (safe methods) and `write_role` (the others); both default to
    `staff`. Not signed in: 401; not a member, or a role too low: 403.
    """

    message = "You are not allowed to do this in this salon."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers 401 when no credentials were given
        role = request_role(request)
        if role is None:
            self.message = "You are not a member of this salon."
            return False
        required = (
            getattr(view, "read_role", Role.STAFF)
            if request.method in SAFE_METHODS
            else getattr(view, "write_role", Role.STAFF)
        )
        return role_at_least(role, required)
