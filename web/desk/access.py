"""Who may open the front desk of a salon, and in which language and time zone it speaks.

Every desk page names its salon in the URL (`/desk/<salon>/...`); the tenant middleware
has resolved it and entered its scope. Signed out: the login page, then back. Signed in
but not a member: 403, a page that says so. The page speaks one of the salon's languages
(the visitor's choice when the salon offers it) and tells times in the salon's zone.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers

from core.languages import language_choose
from tenants.models import Salon
from tenants.selectors import membership_role
from web.permissions import request_salon

DeskView = Callable[Concatenate[HttpRequest, Salon, ...], HttpResponse]


def salon_language(salon: Salon) -> str:
    """The language the visitor chose when the salon speaks it; else the salon's first."""
    return language_choose(salon.languages, browser=translation.get_language() or "")


def desk_view(view: DeskView) -> Callable[..., HttpResponse]:
    """The view runs for members of the URL's salon only, in its language and time zone;
    it receives the salon. Its answer is never cached: it carries clients' details."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, salon: str, **kwargs: Any) -> HttpResponse:
        the_salon = request_salon(request)
        language = salon_language(the_salon)
        with translation.override(language), timezone.override(the_salon.tz):
            request.LANGUAGE_CODE = language
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("desk:login"))
            if membership_role(user=request.user, salon=the_salon) is None:
                response = render(
                    request, "desk/forbidden.html", desk_context(the_salon), status=403
                )
            else:
                response = view(request, the_salon, *args, **kwargs)
        response.headers["Content-Language"] = language
        add_never_cache_headers(response)
        return response

    return wrapper


def desk_context(salon: Salon, **extra: Any) -> dict[str, Any]:
    """What every desk page's layout needs: the salon, and its languages for the switch."""
    return {"salon": salon, "page_languages": list(salon.languages), **extra}
