"""The API's answers when something goes wrong, and its pagination; the error pages.

Every error the API answers has the shape of API.md: `{"code", "detail"}`, plus
`"fields"` (shaped like the request body) for validation errors. When the database cannot
be reached (down, restarting, out of connections), the answer is a 503 `unavailable`
with `Retry-After`, not a 500: nothing was kept, and the client may simply try again.
"""

import logging
import re
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
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
)

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


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Unknown URLs under /api/ answer in the API's error shape; a client's link that no
    longer works says so, in the client's language; other pages as usual."""
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    if _CLIENT_LINK.match(request.path_info):
        return render(request, "link_invalid.html", status=404)
    return defaults.page_not_found(request, exception)


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
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "invalid", "detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"code": "not_allowed", "detail": str(exception) or "Not allowed."}, status=403
        )
    return defaults.permission_denied(request, exception)
