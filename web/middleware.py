from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from tenants.scoping import admin_scope, salon_scope
from tenants.selectors import admin_zone, salon_get


class TenantScopeMiddleware:
    """Resolve the salon of the request and run the whole request inside its scope.

    A URL with a `salon` slug (`/api/v1/salons/<salon>/…`, the salon's public pages) runs
    in that salon's scope, with `request.salon` set; an unknown slug is a 404. The Django
    admin runs in the scope of the salons the user runs, in their time zone. Anything else
    runs without a scope, so a tenant query there raises instead of leaking. The scope
    spans the whole response, template rendering included.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return self.get_response(request)

        slug = match.kwargs.get("salon")
        if slug is not None:
            salon = salon_get(slug=slug)
            if salon is None:
                raise Http404("No such salon.")
            request.salon = salon  # type: ignore[attr-defined]
            with salon_scope(salon):
                return self.get_response(request)

        if "admin" in match.namespaces:
            # Times in the salon's zone, read and written (a 09:00 Paris booking is 09:00).
            zone = admin_zone(request.user) if request.user.is_authenticated else None
            with admin_scope(request.user), timezone.override(zone):
                return self.get_response(request)

        return self.get_response(request)
