"""Abuse limits: how many booking and sign-in attempts one client address, one phone or
e-mail, one username may make in a window.

The counters live in the shared cache (Redis), so a limit holds across processes and
servers; django-ratelimit keeps them (an atomic add-then-increment per key, under a hashed
name: usernames and phone numbers are not stored in the clear). `RATE_LIMITS=off` turns
them all off (load tests, benchmarks). When the cache cannot be reached, the limits fail
open: a client may book and staff may sign in while Redis is down.
"""

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from core.cache import breaker

log = logging.getLogger(__name__)

# The counters' groups: the booking API and the booking page share theirs, and so do the
# token endpoint, the desk's login and the admin's.
BOOKING = "booking"
LOGIN = "login"
# One-time codes (asked for and tried), per client address and per contact or booking.
CODE = "code"

_RATES = {BOOKING: "RATE_LIMIT_BOOKING", LOGIN: "RATE_LIMIT_AUTH", CODE: "RATE_LIMIT_CODE"}


def client_ip(request: HttpRequest) -> str:
    """The client's address: the connection's, or, behind a proxy, the one the proxy puts
    in `TRUSTED_PROXY_HEADER` (its last entry: the address our proxy saw connecting).

    The header is read only when configured: otherwise any client could name itself."""
    header = settings.TRUSTED_PROXY_HEADER
    if header:
        meta = "HTTP_" + header.upper().replace("-", "_")
        candidate = request.META.get(meta, "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def login_username(value: object) -> str:
    """The username a sign-in attempt names, as the limit counts it: the name Django signs
    in (NFKC, as `AbstractBaseUser.normalize_username` makes it: `alice` in full-width
    letters is `alice`), whatever its case; normalised again after casefolding, which may
    undo NFKC."""
    if not isinstance(value, str):
        return ""
    folded = AbstractBaseUser.normalize_username(value).strip().casefold()
    return AbstractBaseUser.normalize_username(folded)


def contact_keys(*, phone: str | None, email: str | None, country: str) -> dict[str, str]:
    """The phone (in E.164, read in the salon's country) and the e-mail (lower-cased) a
    booking gives, as the limits count them: one client however they are typed."""
    keys = {}
    if phone and phone.strip():
        try:
            number = phonenumbers.parse(phone, country or None)
            keys["phone"] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            keys["phone"] = "".join(char for char in phone if char.isalnum())
    if email and email.strip():
        keys["email"] = email.strip().lower()
    return keys


def limit_reached(request: HttpRequest, *, group: str, keys: Mapping[str, str]) -> int | None:
    """Count one attempt against each key (`{"ip": ..., "username": ...}`); when any of them
    is over the group's rate, the seconds until it may try again, else None."""
    if not settings.RATE_LIMITS:
        return None
    rate = getattr(settings, _RATES[group])
    if not rate:
        return None
    wait: int | None = None
    for kind, value in keys.items():
        if not value:
            continue

        def key(_group: str, _request: HttpRequest, value: str = value) -> str:
            return value

        # A cache that failed lately is not called (core/cache.py's breaker).
        if not breaker.allow():
            return None
        try:
            usage = get_usage(request, group=f"{group}:{kind}", key=key, rate=rate, increment=True)
        except Exception:  # the cache backend's own errors (Redis down, timeouts)
            breaker.trip()
            log.warning("rate limits unavailable (%s)", group, exc_info=True)
            return None
        if usage is not None and usage["should_limit"]:
            wait = max(wait or 1, int(usage["time_left"]))
    return wait


class ClientThrottle(BaseThrottle):
    """A DRF throttle over `limit_reached`: the view's `throttle_scope` names the group;
    the client's address is always counted, and the username of a sign-in attempt."""

    def allow_request(self, request: Request, view: Any) -> bool:
        group = view.throttle_scope
        keys = {"ip": client_ip(request)}
        if group == LOGIN:
            try:
                data = request.data
            except Exception:  # an unreadable body is the view's to refuse
                data = {}
            name = data.get("username") if isinstance(data, Mapping) else None
            keys["username"] = login_username(name)
        self._wait = limit_reached(request, group=group, keys=keys)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
