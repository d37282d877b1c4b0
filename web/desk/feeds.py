"""Calendar subscriptions at the desk: each staff member's private `.ics` address of their
appointments, and the salon's (everyone's) for its owner (bookings/feeds.py).

Who manages which: a staff member their own feed; owners and managers every staff
member's; the owner the salon's. A new address is shown once, when it is issued (only a
digest of its secret is kept); revoking it makes it answer 404.

The feed itself is read by calendar apps, which sign in to nothing: its secret is the
credential. Times are written in the salon's time zone (with its VTIMEZONE), and of the
client only the first name and the service (no phone, no e-mail, no notes).
"""

import datetime as dt
from typing import Any

import icalendar
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bookings.feeds import (
    calendar_feed_find,
    calendar_feed_issue,
    calendar_feed_items,
    calendar_feed_revoke,
    calendar_feeds_of,
)
from bookings.models import BookingItem, CalendarFeed, StaffMember, Status
from bookings.selectors import staff_list
from core.query import id_parse
from tenants.models import Role, Salon
from tenants.selectors import membership_role
from web.desk.access import desk_context, desk_view

SALON = "salon"


def _manageable(request: HttpRequest, salon: Salon) -> tuple[bool, list[StaffMember]]:
    """(whether the user manages the salon's feed, the staff members whose feeds they
    manage)."""
    role = membership_role(user=request.user, salon=salon)  # type: ignore[arg-type]
    staff = list(staff_list(salon=salon, active_only=True).order_by("name"))
    if role in (Role.OWNER, Role.MANAGER):
        return role == Role.OWNER, staff
    return False, [s for s in staff if s.user_id == request.user.pk]


def _feed_url(salon: Salon, token: str) -> str:
    path = reverse("desk:feed", kwargs={"salon": salon.slug, "token": token})
    return f"{settings.SITE_URL}{path}"


def _page(
    request: HttpRequest, salon: Salon, *, issued: dict[str, Any] | None = None
) -> HttpResponse:
    salon_feed, staff = _manageable(request, salon)
    live = {feed.staff_id: feed for feed in calendar_feeds_of(salon=salon)}
    rows = [{"key": str(s.pk), "name": s.name, "feed": live.get(s.pk)} for s in staff]
    if salon_feed:
        rows.insert(0, {"key": SALON, "name": _("Everyone in the salon"), "feed": live.get(None)})
    return render(
        request,
        "desk/feeds.html",
        desk_context(salon, nav="feeds", rows=rows, issued=issued),
    )


@desk_view
def feeds(request: HttpRequest, salon: Salon) -> HttpResponse:
    return _page(request, salon)


def _chosen(request: HttpRequest, salon: Salon) -> tuple[bool, StaffMember | None]:
    """The feed the form names, when the user may manage it; else 404."""
    salon_feed, staff = _manageable(request, salon)
    key = request.POST.get("feed", "")
    if key == SALON and salon_feed:
        return True, None
    pk = id_parse(key)
    found = next((s for s in staff if s.pk == pk), None)
    if found is None:
        raise Http404
    return False, found


@require_POST
@desk_view
def feed_issue(request: HttpRequest, salon: Salon) -> HttpResponse:
    _whole, staff = _chosen(request, salon)
    _feed, token = calendar_feed_issue(salon=salon, staff=staff, actor=request.user)
    name = staff.name if staff is not None else _("Everyone in the salon")
    return _page(request, salon, issued={"name": name, "url": _feed_url(salon, token)})


@require_POST
@desk_view
def feed_revoke(request: HttpRequest, salon: Salon) -> HttpResponse:
    _whole, staff = _chosen(request, salon)
    calendar_feed_revoke(salon=salon, staff=staff, actor=request.user)
    return _page(request, salon)


def _first_name(name: str) -> str:
    return name.strip().split(" ")[0] if name.strip() else ""


def feed_calendar(feed: CalendarFeed, items: list[BookingItem], now: dt.datetime) -> bytes:
    """The feed as iCalendar (RFC 5545, written by `icalendar`): one event per service of
    a visit, in the salon's time zone."""
    salon = feed.salon
    tz = salon.tz
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//Acompte//Staff calendar//EN")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    title = f"{salon.name} · {feed.staff.name}" if feed.staff else salon.name
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-timezone", str(tz))
    for item in items:
        booking = item.booking
        who = _first_name(item.guest) if item.guest else _first_name(booking.customer.name)
        parts = [who or "—", item.service.name]
        if feed.staff_id is None:
            parts.append(item.staff.name)
        event = icalendar.Event()
        event.add("uid", f"item-{item.pk}-{booking.reference}@{salon.slug}.acompte")
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", item.start.astimezone(tz))
        event.add("dtend", item.end.astimezone(tz))
        event.add("summary", " · ".join(parts))
        event.add("location", salon.name)
        event.add(
            "status",
            "TENTATIVE" if booking.status == Status.PENDING_PAYMENT else "CONFIRMED",
        )
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


@require_GET
def feed(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    """The `.ics` address a calendar app subscribes to: the secret is the credential, no
    sign-in. Unknown or revoked: 404."""
    found = calendar_feed_find(token=token)
    if found is None:
        raise Http404
    now = timezone.now()
    items = list(calendar_feed_items(feed=found, now=now))
    response = HttpResponse(
        feed_calendar(found, items, now), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
