"""The client's pages: the salon's booking page, the pay page (the online checkout's
payment step and a phone booking's payment link), the confirmation (with its calendar
file) and the manage-my-booking page.

They call the same services as the API (`checkout_place` for every booking, a rebooking
with credit too; `booking_cancel_with_money`, `booking_move`); what the client may do is
decided there, and a refusal becomes a form error or the page's problem
(web/problems.py), never a 500.
"""

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bookings.models import ACTIVE_STATUSES, Booking, Service, Status
from bookings.selectors import (
    VisitPart,
    availability_for,
    booking_by_manage_token,
    booking_cancellable,
    booking_title,
    catalogue_get,
    service_list,
    staff_list,
    visit_availability_for,
)
from bookings.services import booking_manage_token, booking_parts
from bookings.tokens import comeback_token_read, manage_token_read
from core.errors import Invalid, ProviderUnavailable, SlotTaken
from core.languages import language_choose, languages_offered
from core.query import day_parse, id_parse
from core.ratelimit import BOOKING, client_ip, contact_keys, limit_reached
from customers.identity import proof_from_request, proof_holds
from customers.models import Customer
from deposits.agreements import booking_terms, owed_to_client
from deposits.checkout import (
    MAX_SERVICES,
    CheckoutRequest,
    CustomerDetails,
    Rebooking,
    checkout_place,
)
from deposits.credit import credit_balance, credit_left
from deposits.gateway import GatewayError, payment_gateway, test_mode
from deposits.guarantee import card_awaited, card_setup_fetch, fee_fetch, fee_for_link
from deposits.interest import interest_and_balance
from deposits.models import (
    CreditEntry,
    CreditKind,
    FeeStatus,
    Payment,
    PaymentOutcome,
    PaymentStatus,
    SavedCard,
    SavedCardStatus,
)
from deposits.paylinks import pay_token_read, payment_for_link
from deposits.payments import (
    Checkout,
    booking_cancel_with_money,
    booking_move,
    cancellation_deadline,
    cancellation_outcome,
    deposit_state,
    pending_payment,
)
from deposits.selectors import deposit_quote_visit, deposits_today, policy_get, salon_today
from messaging.outbox import language_for
from support.waitlist import waitlist_token
from tenants.models import Salon
from tenants.scoping import salon_scope
from web.permissions import request_salon
from web.problems import form_errors, page_problem
from web.public import steps, waitlist_step
from web.public.forms import BookingForm, CancelForm, RescheduleForm
from web.public.ics import ics_event
from web.public.webhooks import payment_complete_in_test_mode

# Language and rendering -------------------------------------------------------------------


def salon_languages(salon: Salon) -> list[str]:
    return languages_offered(salon.languages)


def page_language(salon: Salon) -> str:
    """The language LocaleMiddleware negotiated (cookie, then the browser's), when the
    salon speaks it; else the salon's first language."""
    return language_choose(salon.languages, browser=translation.get_language() or "")


@contextlib.contextmanager
def salon_locale(salon: Salon) -> Iterator[str]:
    language = page_language(salon)
    with translation.override(language), timezone.override(salon.tz):
        yield language


def page(
    request: HttpRequest, salon: Salon, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {
        "salon": salon,
        "page_languages": salon_languages(salon),
        "test_mode": test_mode(),
        **context,
    }
    response = render(request, f"public/{template}", context, status=status)
    response["Content-Language"] = translation.get_language()
    return response


# The slot picker --------------------------------------------------------------------------


def _simple_parts(parts: Sequence[VisitPart]) -> bool:
    return len(parts) == 1 and parts[0].person == 0


def picker_api_params(parts: Sequence[VisitPart]) -> dict[str, str] | None:
    """What the picker's script asks the public availability endpoint for these parts:
    one service, or the client's services (and as many guests taking the same); None when
    the guests' services differ (the script then leaves the page's links to it)."""
    if not parts:
        return {}
    people: dict[int, list[int]] = {}
    for part in parts:
        people.setdefault(part.person, []).append(part.service.pk)
    own = people.get(0, [])
    if any(ids != own for ids in people.values()):
        return None
    if _simple_parts(parts):
        return {"service": str(own[0])}
    params = {"services": ",".join(map(str, own))}
    if len(people) > 1:
        params["guests"] = str(len(people) - 1)
    return params


def slot_picker(
    *,
    salon: Salon,
    parts: Sequence[VisitPart],
    staff_id: int | None,
    day: dt.date | None,
    query: dict[str, Any],
    ignore_booking: int | None = None,
) -> dict[str, Any]:
    """A week of days (Monday first) and the free times of the chosen day for a visit of
    `parts` (one service, or several), for the page to render without JavaScript; the
    script then moves around through the public availability endpoint."""
    today = salon_today(salon)
    last = today + dt.timedelta(days=salon.max_advance_days)
    day = min(max(day or today, today), last)
    week = day - dt.timedelta(days=day.weekday())
    first_week = today - dt.timedelta(days=today.weekday())
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    sunday = week + dt.timedelta(days=6)
    starts: list[dt.datetime] = []
    if _simple_parts(parts):
        starts = [
            slot.start
            for slot in availability_for(
                salon=salon,
                service=parts[0].service,
                first=week,
                last=sunday,
                staff_id=staff_id,
                ignore_booking=ignore_booking,
            )
        ]
    elif parts:
        starts = [
            slot.start
            for slot in visit_availability_for(
                salon=salon,
                parts=parts,
                first=week,
                last=sunday,
                staff_id=staff_id,
                ignore_booking=ignore_booking,
            )
        ]
    for start in starts:
        local = start.astimezone(salon.tz)
        by_day.setdefault(local.date(), []).append(
            {"value": local.isoformat(), "label": local.strftime("%H:%M")}
        )

    def link(to: dt.date) -> str:
        params = [
            (k, item)
            for k, v in query.items()
            for item in (v if isinstance(v, list) else [v])
            if item not in (None, "")
        ]
        return "?" + urlencode([*params, ("day", to.isoformat())]) + "#times"

    days = [week + dt.timedelta(days=n) for n in range(7)]
    api_params = picker_api_params(parts)
    return {
        # What the script asks for (empty: nothing chosen yet).
        "service": api_params.get("service") or api_params.get("services", "")
        if api_params is not None
        else ",".join(str(p.service.pk) for p in parts),
        "guests": (api_params or {}).get("guests", ""),
        "staff_id": staff_id or "",
        "day": day,
        "week": week,
        "first_week": first_week,
        "last_day": last,
        "today": today,
        "days": [
            {
                "date": d,
                "count": len(by_day.get(d, [])),
                "selected": d == day,
                "past": d < today,
                "url": link(d),
            }
            for d in days
        ],
        "slots": by_day.get(day, []),
        "week_slots": {d.isoformat(): [s["value"] for s in slots] for d, slots in by_day.items()},
        "previous": link(max(week - dt.timedelta(days=7), today)) if week > first_week else "",
        "next": link(week + dt.timedelta(days=7)) if week + dt.timedelta(days=7) <= last else "",
        "api": reverse("availability", kwargs={"salon": salon.slug})
        if api_params is not None
        else "",
        "text": {
            "loading": _("Loading the free times…"),
            "error": _("The free times could not be loaded. Please try again."),
            "none": _("No free time this day: try another day."),
            "one": _("%s time"),
            "other": _("%s times"),
            "legend": _("Free times on %s"),
            "updated": _("Free times updated."),
            "weeks": _("Weeks"),
            "previous": _("Previous week"),
            "next": _("Next week"),
            "most": _("Choose at most %(n)s services for one appointment.") % {"n": MAX_SERVICES},
        },
    }


# The booking page, in steps: choose, give your details, check, book ----------------------


def _visit_summary(salon: Salon, chosen: list[Service], services: list[Service]) -> dict[str, Any]:
    """What the client's choice adds up to: each service, the total time and price, the
    deposit of the visit (the policy's rule on each, its min and max once), and the
    add-ons the salon suggests with each (those not chosen yet)."""
    if not chosen:
        return {"items": [], "price": 0, "minutes": 0, "deposit": 0, "suggestions": []}
    quote = deposit_quote_visit(salon=salon, services=chosen, day=salon_today(salon))
    offered = {s.pk: s for s in services}  # active, in the page's order
    picked = {s.pk for s in chosen}
    suggestions = []
    for service in chosen:
        suggested = {addon.pk for addon in service.addons.all()}
        addons = [s for pk, s in offered.items() if pk in suggested and pk not in picked]
        if addons:
            suggestions.append({"service": service, "addons": addons})
    return {
        "items": [
            {"service": service, "deposit": amount}
            for service, amount in zip(chosen, quote.items, strict=True)
        ],
        "price": sum(s.price for s in chosen),
        "minutes": sum(s.duration_minutes for s in chosen),
        "deposit": quote.amount,
        "suggestions": suggestions,
    }


@require_http_methods(["GET", "POST"])
def salon_page(request: HttpRequest, salon: str) -> HttpResponse:
    """The booking steps (web/public/steps.py). A GET shows the step the query string
    reaches; a POST with `action=details` checks the details and shows the recap; any
    other POST (the recap's pay button, or a whole form at once) books."""
    the_salon = request_salon(request)
    with salon_locale(the_salon) as language:
        services = list(
            service_list(salon=the_salon, active_only=True)
            .prefetch_related("addons")
            .order_by("name", "pk")
        )
        staff = list(staff_list(salon=the_salon, active_only=True).order_by("name", "pk"))
        catalogue = catalogue_get(salon=the_salon)
        source = request.POST if request.method == "POST" else request.GET
        choice = steps.choice_read(source, salon=the_salon, services=services, catalogue=catalogue)
        asked = "services" if "add" in source else source.get("step")
        step = steps.step_reached(choice, asked)
        action = request.POST.get("action") if request.method == "POST" else None
        waitlist = asked == steps.WAITLIST or action == steps.WAITLIST
        if waitlist and steps.step_reached(choice, "staff") != "services":
            return _waitlist(request, the_salon, services, staff, choice, language)
        details = steps.DetailsForm(
            request.POST if request.method == "POST" else None, country=the_salon.country
        )
        problem, status, wait = "", 200, None
        form: BookingForm | None = None
        if action == "edit":  # from the recap, back to the details as they were typed
            step = steps.step_reached(choice, "details")
            details = steps.DetailsForm(initial=request.POST.dict(), country=the_salon.country)
        elif action == "details":
            step = steps.step_reached(choice, "details")
            if step == "details" and details.is_valid():
                step = "recap"
            elif step == "details":
                status = 400
        elif request.method == "POST" and action != "show" and "add" not in request.POST:
            form, outcome = _book_from_post(request, the_salon, services, staff, language)
            if isinstance(outcome, Checkout):
                token = booking_manage_token(outcome.booking)
                # A card on file is saved on the pay page too.
                name = "booking-pay" if outcome.payment or outcome.card else "booking-done"
                return HttpResponseRedirect(
                    reverse(name, kwargs={"salon": the_salon.slug, "token": token})
                )
            problem, status, wait = outcome
            step = steps.step_reached(choice, "recap")
            contact = {"name", "phone", "email", "notes"}
            if step == "recap" and (contact & set(form.errors) or not details.is_valid()):
                step = "details"
        context = _step_context(request, the_salon, services, staff, choice, step, details)
        response = page(
            request,
            the_salon,
            "salon.html",
            {**context, "form": form, "problem": problem},
            status=status,
        )
        if wait is not None:
            response["Retry-After"] = str(wait)
        return response


def _waitlist(
    request: HttpRequest,
    salon: Salon,
    services: list[Service],
    staff: list[Any],
    choice: steps.Choice,
    language: str,
) -> HttpResponse:
    """The waitlist beside the time step (web/public/waitlist_step.py): its form, or,
    joined, the confirmation."""
    proven = proof_from_request(request, salon_id=salon.pk)
    form = waitlist_step.waitlist_form(
        request, salon=salon, choice=choice, staff=staff, proven=proven
    )
    joined = waitlist_step.Joined()
    if form.is_bound:
        joined = waitlist_step.waitlist_join_post(
            request, salon=salon, choice=choice, form=form, language=language, proven=proven
        )
        if joined.entry is not None:
            token = waitlist_token(joined.entry)
            return HttpResponseRedirect(
                reverse("waitlist-joined", kwargs={"salon": salon.slug, "token": token})
            )
    # The staff step's context (its list is cheap; the time step's would compute times).
    details = steps.DetailsForm(country=salon.country)
    context = _step_context(request, salon, services, staff, choice, "staff", details)
    day = form["from"].value() if form.is_bound else None
    context |= {
        "step": steps.WAITLIST,
        "steps": [
            {
                **s,
                "current": False,
                "url": choice.query(upto=s["key"]) if s["key"] in steps.STEPS[:3] else "",
            }
            for s in context["steps"]
        ],
        "back": choice.query(upto="time", day=str(day or (choice.day or ""))),
        "waitlist": form,
        "show_errors": form.is_bound,
        "from_space": request.GET.get("origin", request.POST.get("origin"))
        == waitlist_step.FROM_SPACE,
        "form": form,
        "problem": joined.problem,
    }
    response = page(request, salon, "salon.html", context, status=joined.status)
    if joined.wait is not None:
        response["Retry-After"] = str(joined.wait)
    return response


def _book_from_post(
    request: HttpRequest,
    salon: Salon,
    services: list[Service],
    staff: list[Any],
    language: str,
) -> tuple[BookingForm, Checkout | tuple[str, int, int | None]]:
    """The final POST: everything checked again (the form, then the checkout, which
    recomputes prices and deposits); rate-limited per address, then per phone and e-mail.
    Answers the checkout, or the page's problem, its status and the wait."""
    data = request.POST.copy()
    if data.get("staff") == steps.ANYONE:
        data["staff"] = ""
    form = BookingForm(data, services=services, staff=staff)
    wait = limit_reached(request, group=BOOKING, keys={"ip": client_ip(request)})
    if wait is not None:
        return form, ("too_many_attempts", 429, wait)
    if not form.is_valid():
        return form, ("", 400, None)
    contact = contact_keys(
        phone=form.cleaned_data["phone"], email=form.cleaned_data["email"], country=salon.country
    )
    wait = limit_reached(request, group=BOOKING, keys=contact)
    if wait is not None:
        return form, ("too_many_attempts", 429, wait)
    proven = proof_from_request(request, salon_id=salon.pk)
    outcome = _book(salon, form, language, proven)
    if isinstance(outcome, Checkout):
        return form, outcome
    return form, (outcome[0], outcome[1], None)


def _step_context(
    request: HttpRequest,
    salon: Salon,
    services: list[Service],
    staff: list[Any],
    choice: steps.Choice,
    step: str,
    details: steps.DetailsForm,
) -> dict[str, Any]:
    """What the step's template shows, with the summary of the choice so far."""
    policy, _steps = policy_get(salon=salon)
    deposits = deposits_today(salon=salon, services=services)
    catalogue = catalogue_get(salon=salon)
    visit = _visit_summary(salon, choice.services, services)
    picked = {s.pk for s in choice.services}
    members = {m.pk: m for m in staff}
    context: dict[str, Any] = {
        "step": step,
        "steps": [
            {
                "key": key,
                "label": label,
                "url": choice.query(upto=key)
                if steps.STEPS.index(key) < steps.STEPS.index(step)
                else "",
                "current": key == step,
            }
            for key, label in (
                ("services", _("Services")),
                ("staff", _("Staff")),
                ("time", _("Time")),
                ("details", _("Details")),
                ("recap", _("Recap")),
            )
        ],
        "choice": choice,
        "visit": visit,
        "max_services": MAX_SERVICES,
        "policy": policy,
        "member": members.get(choice.staff_id) if choice.staff_id else None,
        "details": details,
        "show_errors": details.is_bound,
        **_proven_and_credit(request, salon),
        "back": choice.query(upto=steps.STEPS[max(steps.STEPS.index(step) - 1, 0)]),
    }
    if step == "services":
        context["services"] = [
            {
                "service": s,
                "deposit": deposits.get(s.pk, 0),
                "staff_ids": sorted(catalogue.offering(s.pk)),
                "chosen": s.pk in picked,
            }
            for s in services
        ]
    elif step == "staff":
        context["staff"] = [m for m in staff if m.pk in choice.offering]
    elif step == "time":
        context["times"] = steps.time_step(salon, choice)
    elif step == "recap" and choice.start is not None:
        context["terms"] = steps.recap_terms(policy, choice.start)
        context["deposit_terms"] = steps.recap_deposit_terms(
            policy, start=choice.start, deposit=visit["deposit"], currency=salon.currency
        )
        context["contact"] = [
            (name, value)
            for name, value in details.cleaned_data.items()
            if name not in ("reminders_consent", "marketing_consent")
        ]
        context["consents"] = [
            name
            for name in ("reminders_consent", "marketing_consent")
            if details.cleaned_data.get(name)
        ]
    # What her credit leaves to pay now (the checkout spends it, on either amount).
    credit = context["credit"]
    context["due"] = max(visit["deposit"] - credit, 0)
    context["due_full"] = max(visit["price"] - credit, 0)
    context["hidden"] = choice.hidden()
    return context


def _proven_and_credit(request: HttpRequest, salon: Salon) -> dict[str, Any]:
    """The client the visitor proved to be, and the credit that pays her deposit."""
    proven = proof_from_request(request, salon_id=salon.pk)
    return {"proven": proven, "credit": credit_balance(customer=proven) if proven else 0}


def _book(
    salon: Salon, form: BookingForm, language: str, proven: Customer | None = None
) -> Checkout | tuple[str, int]:
    """The booking, as the API's; a refusal is on the form, or is the page's problem."""
    data = form.cleaned_data
    try:
        ids = data["service_ids"]
        return checkout_place(
            CheckoutRequest(
                salon=salon,
                service_id=ids[0] if len(ids) == 1 else None,
                service_ids=tuple(ids) if len(ids) > 1 else (),
                start=data["start"],
                staff_id=data["staff"],
                customer=CustomerDetails(
                    name=data["name"],
                    phone=data["phone"] or None,
                    email=data["email"] or None,
                    language=language,
                    reminders_consent=data["reminders_consent"],
                    marketing_consent=data["marketing_consent"],
                ),
                proven=proven,
                payment_option=data["payment_option"],
                notes=data["notes"],
                channel=data["source"],
                comeback_of=comeback_token_read(data["n"], salon_id=salon.pk),
                express_request=data["express_request"],
            )
        )
    except (Invalid, SlotTaken, ProviderUnavailable) as exc:
        return page_problem(form, exc)


# A booking of this salon, by its token ----------------------------------------------------


def _salon_booking(request: HttpRequest, token: str) -> Booking:
    """Another salon's booking is not found, like a forged token."""
    booking = booking_by_manage_token(token)
    if booking is None or booking.salon_id != request_salon(request).pk:
        raise Http404
    return booking


def _payment_state(
    booking: Booking, payment: Payment | None, *, returning: bool, card: SavedCard | None = None
) -> str:
    """Where the payment of a booking stands: confirmed (paid, or nothing was due), settled
    (the salon took it at the desk, or waived it, instead of the link), due
    while the hold lasts and the provider has the payment, processing when the client is
    back from the provider's page (its webhook confirms in a moment), else expired. The
    hold never outlives the appointment's start."""
    now = timezone.now()
    lapsed = booking.start <= now or (
        booking.hold_expires_at is not None and booking.hold_expires_at <= now
    )
    if booking.status == Status.CONFIRMED and payment is not None and payment.replaced_by_id:
        return "settled"  # the link was given up for the desk: paid there, or waived
    if booking.status == Status.CONFIRMED and (
        payment is None or payment.status == PaymentStatus.SUCCEEDED
    ):
        return "confirmed"
    opened = bool(payment is not None and payment.intent_id) or bool(
        card is not None and card.setup_intent
    )
    if booking.status == Status.PENDING_PAYMENT and not lapsed and opened:
        return "processing" if returning else "due"
    return "expired"


@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest, token: str, salon: str | None = None) -> HttpResponse:
    """The pay page: the Payment Element, or the labelled test-mode form (no money moves).

    Two doors to it: the online checkout's payment step (`/<salon>/booking/<token>/pay/`,
    the manage token: the payment still due, in the page's language, then the
    confirmation), and a phone booking's payment link (`/pay/<token>/`, the pay token: its
    payment, in the client's language, and the page itself says what became of it)."""
    if salon is None:
        ids = pay_token_read(token)
        with salon_scope(ids[0] if ids else 0):
            payment = payment_for_link(token)
            if payment is None:
                raise Http404
            booking = payment.booking
            language = language_for(booking.customer, booking.salon)
            return _pay(request, booking, payment, language=language, done=None)
    booking = _salon_booking(request, token)
    done = reverse("booking-done", kwargs={"salon": salon, "token": token})
    payment = pending_payment(booking)
    return _pay(request, booking, payment, language=page_language(booking.salon), done=done)


def _pay(
    request: HttpRequest,
    booking: Booking,
    payment: Payment | None,
    *,
    language: str,
    done: str | None,
) -> HttpResponse:
    """The page itself; `done` is where the online checkout goes on (None for a link,
    which comes back to itself)."""
    salon = booking.salon
    link = done is None
    back = request.path if done is None else done
    returning = request.GET.get("redirect_status") == "succeeded"
    # A card on file the booking waits for: saved on this page once its payment, if any,
    # is made. Back from saving it, the SetupIntent is fetched from the provider: the
    # browser's word is not taken.
    card = card_awaited(booking) if booking.status == Status.PENDING_PAYMENT else None
    if card is not None and returning and request.GET.get("setup_intent") == card.setup_intent:
        card_setup_fetch(card)
        booking.refresh_from_db()
        card = card_awaited(booking) if booking.status == Status.PENDING_PAYMENT else None
        returning = card is None  # still waiting (a refused card): the form again
    state = _payment_state(booking, payment, returning=returning, card=card)
    card_step = (
        state == "due"
        and card is not None
        and (payment is None or payment.status != PaymentStatus.PENDING)
    )
    if state == "confirmed" and not link:
        return HttpResponseRedirect(back)
    if request.method == "POST" and state != "expired":
        # Test mode's stand-in for the card form; a real provider takes the card itself.
        # A POST after the hold lapsed is answered below, as a GET is.
        if (
            not test_mode()
            or state != "due"
            or payment is None
            or payment.status != PaymentStatus.PENDING
        ):
            raise Http404
        with contextlib.suppress(GatewayError):  # the next page says what became of it
            payment_complete_in_test_mode(intent_id=str(payment.intent_id))
        return HttpResponseRedirect(back)
    publishable_key = ""
    if state == "due" and not test_mode():
        try:
            publishable_key = payment_gateway().publishable_key
        except GatewayError:
            state = "unavailable"
    with translation.override(language), timezone.override(salon.tz):
        return page(
            request,
            salon,
            "pay.html",
            {
                "booking": booking,
                "payment": payment,
                "state": state,
                "link": link,
                # A link speaks its client's language, whatever the browser's.
                **({"page_languages": [language]} if link else {}),
                "credit_spent": _credit_spent(booking),
                "booking_terms": booking_terms(booking),
                "publishable_key": publishable_key,
                "stripe_js_url": settings.STRIPE_JS_URL,
                "card": card,
                "card_step": card_step,
                "card_refused": _card_refused(booking) if state == "due" else False,
                "stripe_secret": (
                    card.client_secret
                    if card_step and card is not None
                    else (payment.client_secret if payment else "")
                ),
                "stripe_mode": "setup" if card_step else "payment",
                "account": payment.account if payment else (card.account if card else ""),
                # With a card still to save, the client comes back here for it.
                "return_url": request.build_absolute_uri(request.path if card else back),
                "again_url": _same_time_again(booking) if state == "expired" and not link else "",
            },
            status=410 if state == "expired" else 200,
        )


@require_GET
def fee_pay_page(request: HttpRequest, token: str) -> HttpResponse:
    """A fee's link (deposits/guarantee.py): the Payment Element on the fee's intent, for
    a card that needed its holder or refused; the client may use another card. Back from
    paying, the intent is fetched from the provider."""
    fee = fee_for_link(token)
    if fee is None:
        raise Http404
    with salon_scope(fee.salon_id):
        booking = fee.booking
        salon = booking.salon
        if request.GET.get("redirect_status") == "succeeded":
            fee = fee_fetch(fee)
        due = fee.status in (FeeStatus.REQUIRES_ACTION, FeeStatus.FAILED) and bool(fee.intent_id)
        publishable_key = ""
        state = "paid" if fee.status == FeeStatus.SUCCEEDED else ("due" if due else "closed")
        if due:
            try:
                publishable_key = payment_gateway().publishable_key
            except GatewayError:
                state = "unavailable"
        language = language_for(booking.customer, salon)
        with translation.override(language), timezone.override(salon.tz):
            return page(
                request,
                salon,
                "pay_fee.html",
                {
                    "booking": booking,
                    "fee": fee,
                    "state": state,
                    "page_languages": [language],
                    "publishable_key": publishable_key,
                    "stripe_js_url": settings.STRIPE_JS_URL,
                    "stripe_secret": fee.client_secret,
                    "stripe_mode": "payment",
                    "account": fee.card.account,
                    "return_url": request.build_absolute_uri(request.path),
                },
            )


def _card_refused(booking: Booking) -> bool:
    """A card of this booking was refused (prepaid, where the salon refuses those)."""
    return SavedCard.objects.filter(booking=booking, status=SavedCardStatus.REFUSED).exists()


def _same_time_again(booking: Booking) -> str:
    """The booking steps at the details of the same visit, when its time is still free
    (the lapsed hold itself left out); else nothing."""
    salon = booking.salon
    parts = booking_parts(booking)
    if not parts or any(part.person for part in parts) or booking.start <= timezone.now():
        return ""
    if not steps.start_still_free(
        salon=salon,
        parts=parts,
        staff_id=booking.staff_id,
        start=booking.start,
        ignore_booking=booking.pk,
    ):
        return ""
    choice = steps.Choice(
        services=[part.service for part in parts],
        staff_given=True,
        staff_id=booking.staff_id,
        start=booking.start.astimezone(salon.tz),
    )
    return reverse("book", kwargs={"salon": salon.slug}) + choice.query(upto="details")


@require_GET
def booking_done(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    """The confirmation: what was booked, what was paid, the calendar file, the link."""
    booking = _salon_booking(request, token)
    with salon_locale(booking.salon):
        payment = pending_payment(booking)
        returning = request.GET.get("redirect_status") == "succeeded"
        card = card_awaited(booking) if booking.status == Status.PENDING_PAYMENT else None
        state = _payment_state(booking, payment, returning=returning, card=card)
        return page(
            request,
            booking.salon,
            "done.html",
            {
                "booking": booking,
                "state": state,
                "deposit": deposit_state(booking),
                "credit_spent": _credit_spent(booking),
                "payment": payment,
                "token": token,
                "booking_terms": booking_terms(booking),
                "manage_url": request.build_absolute_uri(reverse("manage-page", args=[token])),
            },
        )


@require_GET
def booking_ics(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    booking = _salon_booking(request, token)
    the_salon = booking.salon
    with salon_locale(the_salon):
        manage = request.build_absolute_uri(reverse("manage-page", args=[token]))
        text = ics_event(
            uid=f"booking-{booking.pk}-{booking.reference}@{request.get_host().split(':')[0]}",
            start=booking.start,
            end=booking.end,
            stamp=timezone.now(),
            summary=f"{booking_title(booking)} · {the_salon.name}",
            location=" ".join(the_salon.address.split()) or the_salon.name,
            description=_("Reference %(reference)s. Manage your booking: %(url)s")
            % {"reference": booking.reference, "url": manage},
            url=manage,
        )
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="booking-{booking.reference}.ics"'
    return response


# Managing a booking -----------------------------------------------------------------------


def manage_page_view(
    view: Callable[[HttpRequest, Booking, str], HttpResponse],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """The manage token is the credential: its salon's scope and language, or a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        read = manage_token_read(token)
        with salon_scope(read[0] if read else 0):
            booking = booking_by_manage_token(token)
            if booking is None:
                raise Http404
            with salon_locale(booking.salon):
                return view(request, booking, token)

    return wrapper


def _credited(booking: Booking) -> bool:
    return Payment.objects.filter(
        booking=booking, outcome=PaymentOutcome.CREDITED, status=PaymentStatus.SUCCEEDED
    ).exists()


def _credit_until(booking: Booking, own: Booking | None) -> dt.datetime | None:
    """When the first grant with something left lapses."""
    grants = CreditEntry.objects.filter(
        customer=booking.customer, kind=CreditKind.GRANTED, expires_at__gt=timezone.now()
    )
    if own is not None:
        grants = grants.filter(booking=own)
    for grant in grants.order_by("expires_at", "id"):
        if credit_left(grant) > 0:
            return grant.expires_at
    return None


def _credit_spent(booking: Booking) -> int:
    """What of the client's credit paid this booking (a rebooking after a cancellation)."""
    spent = CreditEntry.objects.filter(booking=booking, kind=CreditKind.USED)
    return sum(entry.amount for entry in spent)


def _abilities(booking: Booking, credit: int) -> tuple[bool, bool]:
    can_cancel = booking_cancellable(booking)
    rebook = (
        booking.status in (Status.CANCELLED, Status.EXPIRED) and credit > 0 and _credited(booking)
    )
    return can_cancel, can_cancel or rebook


def _own(request: HttpRequest, booking: Booking) -> Booking | None:
    """None when the visitor proved she is the booking's client (a one-time code): all
    her credit is hers to see and spend; else the booking, whose own money's credit is
    all its link shows."""
    proven = proof_from_request(request, salon_id=booking.salon_id)
    return None if proof_holds(customer=booking.customer, proven=proven) else booking


def _manage_url(token: str) -> str:
    return reverse("manage-page", args=[token])


@require_GET
@manage_page_view
def manage_page(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    own = _own(request, booking)
    credit = credit_balance(customer=booking.customer, made_by=own)
    can_cancel, can_reschedule = _abilities(booking, credit)
    payment = pending_payment(booking)
    interest, left_to_pay = interest_and_balance(booking)
    return page(
        request,
        booking.salon,
        "manage.html",
        {
            "booking": booking,
            "token": token,
            "deposit": deposit_state(booking),
            "credit": credit,
            "credit_until": _credit_until(booking, own) if credit else None,
            "proven": own is None,
            "can_prove": not booking.customer.erased,
            "credit_spent": _credit_spent(booking) if booking.status in ACTIVE_STATUSES else 0,
            "deadline": cancellation_deadline(booking),
            "can_cancel": can_cancel,
            "can_reschedule": can_reschedule,
            "outcome": cancellation_outcome(booking) if can_cancel else None,
            "pay_due": _payment_state(booking, payment, returning=False) == "due",
            "booking_terms": booking_terms(booking),
            "owed": owed_to_client(booking),
            "interest": interest,
            "balance_due": left_to_pay,
        },
    )


@require_http_methods(["GET", "POST"])
@manage_page_view
def manage_cancel(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """What the cancellation does with the money, stated before the client confirms."""
    credit = credit_balance(customer=booking.customer, made_by=_own(request, booking))
    can_cancel, _can_reschedule = _abilities(booking, credit)
    if not can_cancel:
        return HttpResponseRedirect(_manage_url(token))
    outcome = cancellation_outcome(booking)
    form = CancelForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        resolution = form.data.get("resolution", "")
        if outcome.outcome == "choice" and resolution not in {"refund", "credit"}:
            form.add_error("resolution", _("Choose a refund or credit."))
        if form.is_valid():
            try:
                booking_cancel_with_money(booking=booking, resolution=resolution or "refund")
            except DjangoValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("Your appointment is cancelled."))
                return HttpResponseRedirect(_manage_url(token))
        status = 400
    return page(
        request,
        booking.salon,
        "cancel.html",
        {
            "booking": booking,
            "token": token,
            "outcome": outcome,
            "form": form,
            "deadline": cancellation_deadline(booking),
            "credit_spent": _credit_spent(booking),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@manage_page_view
def manage_reschedule(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """A new time for the booking; one cancelled with credit comes back paid by it."""
    salon = booking.salon
    own = _own(request, booking)
    credit = credit_balance(customer=booking.customer, made_by=own)
    _can_cancel, can_reschedule = _abilities(booking, credit)
    if not can_reschedule:
        return HttpResponseRedirect(_manage_url(token))
    catalogue = catalogue_get(salon=salon)
    offering = catalogue.offering(booking.service_id)
    staff = [
        m
        for m in staff_list(salon=salon, active_only=True).order_by("name", "pk")
        if m.pk in offering
    ]
    source = request.POST if request.method == "POST" else request.GET
    staff_id = id_parse(source.get("staff"))
    staff_id = staff_id if staff_id in offering else None
    day = day_parse(source.get("day"))
    form = RescheduleForm(request.POST if request.method == "POST" else None)
    problem, status = "", 200
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["start"]
        day = start.astimezone(salon.tz).date()
        try:
            if booking.status in (Status.CANCELLED, Status.EXPIRED):
                checkout = checkout_place(
                    Rebooking(booking=booking, start=start, staff_id=staff_id, proven=own is None)
                )
                if checkout.payment is not None:
                    return HttpResponseRedirect(
                        reverse("booking-pay", kwargs={"salon": salon.slug, "token": token})
                    )
            else:
                member = (
                    catalogue.active_staff_for(staff_id, booking.service_id) if staff_id else None
                )
                booking_move(booking=booking, start=start, staff=member)
        except (DjangoValidationError, SlotTaken, ProviderUnavailable) as exc:
            problem, status = page_problem(form, exc)
        else:
            messages.success(request, _("Your appointment is confirmed at its new time."))
            return HttpResponseRedirect(_manage_url(token))
    elif form.is_bound:
        status = 400
    picker = slot_picker(
        salon=salon,
        parts=booking_parts(booking),
        staff_id=staff_id,
        day=day,
        query={"staff": staff_id},
        ignore_booking=booking.pk,
    )
    return page(
        request,
        salon,
        "reschedule.html",
        {
            "booking": booking,
            "token": token,
            "staff": staff,
            "staff_id": staff_id,
            "picker": picker,
            "form": form,
            "problem": problem,
            "credit": credit,
            "show_errors": form.is_bound,
            "rebook": booking.status in (Status.CANCELLED, Status.EXPIRED),
            "selected_start": str(form.data.get("start", "")) if form.is_bound else "",
        },
        status=status,
    )
