"""The API's answers when something goes wrong, and its pagination; the error pages.

Every error the API answers has the shape of API.md: `{"code", "detail"}`, plus
`"fields"` (shaped like the request body) for validation errors. When the database cannot
be reached (down, restarting, out of connections), the answer is a 503 `unavailable`
with `Retry-After`, not a 500: nothing was kept, and the client may simply try again.
"""

import logging
import re
import sys
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.errors import (
    ApplicationError,
    Invalid,
    NotAllowed,
    NotFound,
    ProviderUnavailable,
    SlotTaken,
    StateConflict,
)
from core.languages import language_choose, languages_offered
from tenants.models import RESERVED_SLUGS, Salon
from tenants.selectors import salon_get

log = logging.getLogger(__name__)

UNAVAILABLE = {
    "code": "unavailable",
    "detail": "The service is briefly unavailable. Nothing was kept; please retry in a moment.",
}
RETRY_AFTER_SECONDS = "5"


def database_unavailable(exc: BaseException | None) -> bool:
    """The database could not be reached or lost the connection (psycopg's errors of the
    kind, and the pool's timeout, reach Django as these two)."""
    return isinstance(exc, OperationalError | InterfaceError)


# The domain's errors (core/errors.py), answered with API.md's codes and these statuses.
_STATUSES: list[tuple[type[ApplicationError], int]] = [
    (SlotTaken, status.HTTP_409_CONFLICT),
    (StateConflict, status.HTTP_409_CONFLICT),
    (ProviderUnavailable, status.HTTP_502_BAD_GATEWAY),
    (NotAllowed, status.HTTP_403_FORBIDDEN),
    (NotFound, status.HTTP_404_NOT_FOUND),
]


class DomainError(exceptions.APIException):
    """A domain error on its way out of the API."""

    def __init__(self, error: ApplicationError) -> None:
        self.status_code = next(
            (code for cls, code in _STATUSES if isinstance(error, cls)), status.HTTP_400_BAD_REQUEST
        )
        self.error_code = error.code
        super().__init__(detail=error.detail, code=error.code)


# DRF's own exception classes mapped to the codes of API.md.
_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ValidationError, "invalid"),
    (exceptions.ParseError, "parse_error"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.PermissionDenied, "not_allowed"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
]


def error_code(exc: exceptions.APIException) -> str:
    if isinstance(exc, DomainError):
        return exc.error_code
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    return str(exc.default_code)


def _first_message(fields: Any, path: str = "") -> str:
    """The first message of a (nested) error structure, with the field it belongs to."""
    if isinstance(fields, dict):
        for key, value in fields.items():
            name = path if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            return _first_message(value, name)
    if isinstance(fields, list):
        for item in fields:
            if item:
                return _first_message(item, path)
    return f"{path}: {fields}" if path else str(fields)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if database_unavailable(exc):
        log.warning("database unavailable: %s", exc)
        set_rollback()
        return Response(
            UNAVAILABLE,
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if isinstance(exc, Invalid):  # shaped like the request, nested as deep as it is
        exc = exceptions.ValidationError(exc.fields)
    elif isinstance(exc, DjangoValidationError):  # a model's or a form's checks
        exc = exceptions.ValidationError(get_error_detail(exc))
    elif isinstance(exc, ApplicationError):
        exc = DomainError(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None  # a real server error: Django's 500 handler answers

    code = error_code(exc)
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body: dict[str, Any] = {
            "code": code,
            "detail": _first_message(fields) or "The request is invalid.",
            "fields": fields,
        }
    else:
        detail = exc.detail
        body = {
            "code": code,
            "detail": str(detail if not isinstance(detail, list | dict) else exc.default_detail),
        }
    response.data = body
    return response


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


# A client's link to a booking or its payment: forged, expired or revoked, it is told so.
_CLIENT_LINK = re.compile(r"^/(?:manage|pay)/[^/]+/|^/[-\w]+/booking/[^/]+/")


# The error pages: what happened, in the client's language, with the salon's name and
# phone when the address names a salon (the client may call rather than try again).
ERRORS: dict[int, tuple[Any, Any]] = {
    400: (
        _("This request could not be read"),
        _("Something in the address or the form was not as expected. Go back and try again."),
    ),
    403: (
        _("This page is not open to you"),
        _("You may need to sign in, or to use the link the salon sent you."),
    ),
    404: (
        _("This page does not exist"),
        _("The address may be mistyped, or the page has moved."),
    ),
    410: (
        _("This page is no longer available"),
        _("What it offered has ended. Start again from the salon's page."),
    ),
    429: (
        _("Too many attempts"),
        _("Please wait a few minutes before trying again."),
    ),
    500: (
        _("Something went wrong on our side"),
        _("Nothing was kept. Please try again in a moment."),
    ),
}


def _salon_of(request: HttpRequest, *, look_up: bool = True) -> Salon | None:
    """The salon the address names: the one the request resolved, else (unless the
    database may be the trouble) the salon whose slug the path starts with."""
    salon = getattr(request, "salon", None)
    if isinstance(salon, Salon) or not look_up:
        return salon if isinstance(salon, Salon) else None
    slug = request.path_info.strip("/").split("/", 1)[0]
    if not slug or slug in RESERVED_SLUGS or not re.fullmatch(r"[-\w]+", slug):
        return None
    try:
        return salon_get(slug=slug)
    except Exception:  # an error page must not fail for want of the salon's name
        log.warning("error page: the salon %r could not be read", slug, exc_info=True)
        return None


def error_page(
    request: HttpRequest,
    status: int,
    *,
    template: str = "errors/error.html",
    look_up: bool = True,
) -> HttpResponse:
    """The page of an error `status`, in the salon's layout when the address names a
    salon (in the language its pages speak), else in the product's."""
    salon = _salon_of(request, look_up=look_up)
    title, message = ERRORS.get(status, ERRORS[400])
    context: dict[str, Any] = {"status": status, "title": title, "message": message}
    language = None
    if salon is not None:
        language = language_choose(salon.languages, browser=translation.get_language() or "")
        context.update(
            salon=salon,
            page_languages=languages_offered(salon.languages),
            layout="public/_layout.html",
        )
    else:
        context["layout"] = "base.html"
    with translation.override(language) if language else nullcontext():
        response = render(request, template, context, status=status)
        response["Content-Language"] = translation.get_language()
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Unknown URLs under /api/ answer in the API's error shape; a client's link that no
    longer works says so, in the client's language; other pages as the error page."""
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    if _CLIENT_LINK.match(request.path_info):
        return error_page(request, 404, template="link_invalid.html")
    return error_page(request, 404)


def _plain_server_error(request: HttpRequest) -> HttpResponse:
    try:
        return error_page(request, 500, look_up=False)
    except Exception:  # the page itself failed: Django's bare one
        log.exception("the error page could not be rendered")
        return defaults.server_error(request)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception (a middleware's, such as the salon
    # lookup, or a page's), so the exception is at hand.
    if database_unavailable(sys.exc_info()[1]):
        if _is_api(request):
            response: HttpResponse = JsonResponse(UNAVAILABLE, status=503)
        else:
            response = HttpResponse(
                "<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1>"
                "<p>Please try again in a moment.</p>",
                status=503,
            )
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "detail": "Something went wrong on our side."}, status=500
        )
    return _plain_server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "invalid", "detail": "Bad request."}, status=400)
    return error_page(request, 400)


def too_many_requests(request: HttpRequest, retry_after: int | None = None) -> HttpResponse:
    """A page refused by an abuse limit (core/ratelimit.py): 429, and when to come back."""
    if _is_api(request):
        response: HttpResponse = JsonResponse(
            {"code": "throttled", "detail": "Too many requests."}, status=429
        )
    else:
        response = error_page(request, 429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, Ratelimited):  # django-ratelimit's refusal: a 429, not a 403
        return too_many_requests(request)
    if _is_api(request):
        return JsonResponse(
            {"code": "not_allowed", "detail": str(exception) or "Not allowed."}, status=403
        )
    return error_page(request, 403)
