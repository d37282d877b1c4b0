"""One booking at the desk: what it is, its payment link, and what staff do with it
(the client arrived and was served, did not come, or the salon cancels)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bookings.models import ACTIVE_STATUSES, Booking, BookingItem, Status
from bookings.services import booking_complete, booking_mark_no_show
from deposits.models import Payment, PaymentStatus
from deposits.paylinks import pay_url
from deposits.payments import booking_cancel_with_money
from tenants.models import Salon
from web.desk.access import desk_context, desk_view
from web.desk.calendar import booking_rows
from web.problems import error_text


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the salon cancels (the client is refunded in full)"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Say why the salon cancels.")},
    )


def salon_booking_or_404(salon: Salon, pk: int) -> Booking:
    """The salon's booking; another salon's id is answered like a missing one."""
    booking = (
        Booking.objects.select_related("customer", "service", "staff")
        .prefetch_related(
            Prefetch("payments", queryset=Payment.objects.all()),
            Prefetch("items", queryset=BookingItem.objects.select_related("service", "staff")),
        )
        .filter(pk=pk)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def _page(
    request: HttpRequest,
    salon: Salon,
    booking: Booking,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    row = booking_rows(salon, [booking])[0]
    pending = next((p for p in booking.payments.all() if p.status == PaymentStatus.PENDING), None)
    link = None
    if pending is not None and booking.status == Status.PENDING_PAYMENT and pending.intent_id:
        link = {"url": pay_url(pending), "expires_at": booking.hold_expires_at}
    started = booking.start <= timezone.now()
    return render(
        request,
        "desk/booking.html",
        desk_context(
            salon,
            nav="calendar",
            booking=booking,
            row=row,
            link=link,
            can_complete=booking.status == Status.CONFIRMED,
            can_no_show=booking.status == Status.CONFIRMED and started,
            no_show_later=booking.status == Status.CONFIRMED and not started,
            can_cancel=booking.status in ACTIVE_STATUSES,
            cancel_form=cancel_form or CancelForm(),
        ),
        status=status,
    )


@desk_view
def booking_detail(request: HttpRequest, salon: Salon, pk: int) -> HttpResponse:
    return _page(request, salon, salon_booking_or_404(salon, pk))


ACTIONS: dict[str, Any] = {
    "complete": (booking_complete, gettext_lazy("Marked as completed: the client was served.")),
    "no-show": (booking_mark_no_show, gettext_lazy("Marked as a no-show: the deposit is kept.")),
}


@require_POST
@desk_view
def booking_action(request: HttpRequest, salon: Salon, pk: int, action: str) -> HttpResponse:
    booking = salon_booking_or_404(salon, pk)
    here = reverse("desk:booking", kwargs={"salon": salon.slug, "pk": booking.pk})
    if action == "cancel":
        form = CancelForm(request.POST)
        if not form.is_valid():
            return _page(request, salon, booking, cancel_form=form, status=400)
        try:
            booking_cancel_with_money(
                booking=booking,
                by_salon=True,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request, _("Cancelled by the salon: any deposit paid is refunded in full.")
            )
        return HttpResponseRedirect(here)
    if action not in ACTIONS:
        raise Http404
    service, done = ACTIONS[action]
    try:
        service(booking=booking, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, str(done))
    return HttpResponseRedirect(here)
