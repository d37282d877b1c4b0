"""The booking pages on other sites: the widget a salon pastes into its own site
(`/<salon>/widget.js`, which opens the booking page in a frame and sizes it from the
page's height messages), the pages that frame may show (`embeddable`), and what search
engines read (`robots.txt`) and browsers ask for (`favicon.ico`).

Only the salon's client pages the widget opens may be framed, and only by the sites the
salon lists (`Salon.embed_domains`); every other answer keeps `frame-ancestors 'none'`
and X-Frame-Options DENY (web/csp.py, Django's clickjacking middleware).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from bookings.models import Source
from tenants.models import embed_origins
from web.csp import content_security_policy
from web.permissions import request_salon
from web.public.booking import salon_locale

View = Callable[..., HttpResponse]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _own_origin(request: HttpRequest) -> bool:
    """The request was sent by a page of this very site: the browser says so in its
    `Origin` (which no page can set) and, when it sends them, its fetch metadata."""
    origin = request.headers.get("Origin", "")
    own = {f"{request.scheme}://{request.get_host()}", *settings.CSRF_TRUSTED_ORIGINS}
    fetch_site = request.headers.get("Sec-Fetch-Site")
    return origin in own and fetch_site in (None, "same-origin")


def _no_view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError


def csrf_own_origin(view: View) -> View:
    """Django's CSRF check, except that a form posted without the CSRF cookie is accepted
    when the browser says the page that posted it is this site's own.

    Inside the widget's frame on a salon's site, the frame is a third party: browsers
    keep its cookies back (SameSite=Lax, the default, and third-party cookie blocking),
    so the CSRF cookie never arrives and Django would refuse the booking. Two ways out:
    set the CSRF and session cookies SameSite=None; Secure, or trust the `Origin` header.
    The second is the safer: SameSite=None would send the site's cookies with every
    cross-site request (the admin's and the desk's session too), and needs HTTPS even on
    a developer's machine; whereas `Origin` is set by the browser and cannot be forged by
    a page, a request from another site carries that site's origin (and `Sec-Fetch-Site:
    cross-site`), and a request without a browser has no victim's cookies to abuse. Only
    the views wrapped here, the booking and pay forms, accept it; a request that does
    carry the cookie still has its token checked."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            cookieless = settings.CSRF_COOKIE_NAME not in request.COOKIES
            if not (cookieless and _own_origin(request)):
                refused = CsrfViewMiddleware(_no_view).process_view(request, _no_view, (), {})
                if refused is not None:
                    return refused
        return view(request, *args, **kwargs)

    return csrf_exempt(checked)


def frame_ancestors(request: HttpRequest) -> list[str]:
    """Who may frame this salon's booking pages: this site, and the salon's own sites."""
    salon = getattr(request, "salon", None)
    return ["'self'", *(embed_origins(salon.embed_domains) if salon is not None else [])]


def embeddable(view: View) -> View:
    """A client page the widget's frame may show, on the sites the salon lists."""

    @wraps(view)
    def framed(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        ancestors = frame_ancestors(request)
        response.headers["Content-Security-Policy"] = content_security_policy(
            settings.STRIPE_JS_URL,
            frame_ancestors=" ".join(ancestors),
            stripe_api_base=settings.STRIPE_API_BASE,
        )
        if len(ancestors) > 1:
            # X-Frame-Options names no site: the CSP above, which browsers prefer, does.
            response.xframe_options_exempt = True
        else:
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    return csrf_own_origin(framed)


def share_links(request: HttpRequest, slug: str) -> dict[str, str]:
    """The salon's ready-made links, one a channel, each recording it on the booking; the
    booking page is the salon's own, lists its bookable services first, needs no login
    (Google's appointments redirect rules ask for all three)."""
    book = request.build_absolute_uri(reverse("book", kwargs={"salon": slug}))
    return {
        channel: f"{book}?{urlencode({'source': channel})}"
        for channel in (Source.GOOGLE, Source.INSTAGRAM, Source.FACEBOOK)
    }


def widget_snippet(request: HttpRequest, slug: str) -> str:
    """What a salon pastes into its site where the booking should appear."""
    src = request.build_absolute_uri(reverse("widget", kwargs={"salon": slug}))
    return f'<script src="{src}" async></script>'


@require_GET
def widget_js(request: HttpRequest, salon: str) -> HttpResponse:
    """The widget: a script that puts the booking page, in a frame, where its tag is."""
    the_salon = request_salon(request)
    book = reverse("book", kwargs={"salon": the_salon.slug})
    with salon_locale(the_salon):
        response = render(
            request,
            "public/widget.js",
            {
                "origin": request.build_absolute_uri("/").rstrip("/"),
                "src": request.build_absolute_uri(f"{book}?{urlencode({'source': Source.WIDGET})}"),
                "name": the_salon.name,
                # The frame's name, for screen readers on the salon's site.
                "title": _("Book at %(salon)s") % {"salon": the_salon.name},
            },
            content_type="text/javascript; charset=utf-8",
        )
    response["Cache-Control"] = "public, max-age=3600"
    # Loaded by the salon's pages, whatever their own cross-origin policies.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# Private pages: search engines keep out (they also say `noindex`).
ROBOTS_DISALLOW = ("/pay/", "/manage/", "/me/", "/desk/", "/admin/", "/api/", "/i18n/")


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Salons' pages are for search engines; paying, managing, the client's space, the
    desk, the admin and the API are not (nor a booking's own pages under a salon)."""
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in ROBOTS_DISALLOW]
    lines += ["Disallow: /*/booking/", "Disallow: /*/unsubscribe/", "Disallow: /*/verify/"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: the site's icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
