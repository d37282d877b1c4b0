"""The Content-Security-Policy of every answer: scripts from the site itself and from
Stripe.js only (no inline script anywhere: the pages' JavaScript lives in static files,
the API docs load theirs from a URL), Stripe's frames and API for the Payment Element.
Forms post to the site itself, whose answer may send the browser on to Stripe Connect's
onboarding (the setup checklist's "Connect Stripe": browsers hold a form's redirects to
its form-action too).

Inline styles stay allowed: the admin's and the API docs' templates set a few, and a
style cannot run code."""

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# What Stripe.js needs besides its own origin (Stripe's published CSP directives).
STRIPE_FRAMES = "https://hooks.stripe.com"
STRIPE_API = "https://api.stripe.com"
STRIPE_CONNECT = "https://connect.stripe.com"  # where account links send an owner


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _onboarding(stripe_api_base: str) -> str:
    """Where Stripe's account links lead: Stripe Connect, or the API's own origin when it
    is not Stripe's (a stand-in serves both)."""
    api = _origin(stripe_api_base)
    return STRIPE_CONNECT if api in {"", STRIPE_API} else f"{STRIPE_CONNECT} {api}"


def _api(stripe_api_base: str) -> str:
    """Where Stripe.js calls the API from the page: Stripe's, and the configured API's
    own origin when it is not Stripe's (a stand-in)."""
    api = _origin(stripe_api_base)
    return STRIPE_API if api in {"", STRIPE_API} else f"{STRIPE_API} {api}"


@lru_cache(maxsize=512)
def content_security_policy(
    stripe_js_url: str, frame_ancestors: str = "'none'", stripe_api_base: str = STRIPE_API
) -> str:
    """The policy; `frame_ancestors` says who may show the page in a frame (nobody,
    except the booking pages the widget shows: web/public/embed.py)."""
    stripe = _origin(stripe_js_url)
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' {stripe}",
        "frame-src": f"{stripe} {STRIPE_FRAMES}",
        "connect-src": f"'self' {_api(stripe_api_base)}",
        "img-src": "'self' data: https://*.stripe.com",
        "style-src": "'self' 'unsafe-inline'",
        "font-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": f"'self' {_onboarding(stripe_api_base)}",
        "frame-ancestors": frame_ancestors,
    }
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = content_security_policy(
                settings.STRIPE_JS_URL, stripe_api_base=settings.STRIPE_API_BASE
            )
        return response
