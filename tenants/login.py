"""Signing in on pages (the desk's and the admin's login): attempts are limited per client
address and per username, counted before the password is checked, and every refusal reads
the same whether the account exists or not."""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from core.ratelimit import LOGIN, client_ip, limit_reached, login_username

TOO_MANY_ATTEMPTS = _("Too many attempts to log in. Please wait a minute and try again.")


class LimitedLoginMixin(forms.Form):
    request: Any
    # The seconds until the next attempt may be made, when this one was refused.
    refused_for: int | None = None

    def clean(self) -> dict[str, Any]:
        if self.request is not None:
            keys = {
                "ip": client_ip(self.request),
                "username": login_username(self.data.get("username")),
            }
            self.refused_for = limit_reached(self.request, group=LOGIN, keys=keys)
        if self.refused_for is not None:
            raise forms.ValidationError(TOO_MANY_ATTEMPTS, code="throttled")
        return super().clean() or self.cleaned_data


class LoginForm(LimitedLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(LimitedLoginMixin, AdminAuthenticationForm):
    pass


def refused_response(response: HttpResponse, form: object) -> HttpResponse:
    """A refused attempt's page is a 429, with when to try again."""
    wait = getattr(form, "refused_for", None)
    if wait is not None:
        response.status_code = 429
        response["Retry-After"] = str(wait)
    return response
