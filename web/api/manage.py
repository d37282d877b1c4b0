"""The client's own booking and the staff's cancellation, with what happens to the money."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.models import Booking, StaffMember, Status
from bookings.selectors import catalogue_get
from deposits.credit import credit_balance
from deposits.gateway import payment_gateway
from deposits.models import Payment
from deposits.payments import (
    booking_cancel_with_money,
    booking_move,
    booking_rebook_with_credit,
    booking_rebookable,
    cancellation_deadline,
    checkout_charge,
    deposit_state,
    pending_payment,
)
from web.api import manage_base as manage
from web.api.booking import PROOF_PARAMETER
from web.api.serializers import RescheduleSerializer


class ManageMoneySerializer(manage.ManageBookingSerializer):
    def get_deposit(self, booking: Booking) -> dict[str, Any]:
        return deposit_state(booking)

    def _pending(self, booking: Booking) -> Payment | None:
        # Read once for both fields that show it.
        read: dict[int, Payment | None] = self.__dict__.setdefault("_pending_read", {})
        if booking.pk not in read:
            read[booking.pk] = pending_payment(booking)
        return read[booking.pk]

    def get_amount_due_now(self, booking: Booking) -> int:
        pending = self._pending(booking)
        return pending.amount if pending else 0

    def get_payment(self, booking: Booking) -> dict[str, Any] | None:
        pending = self._pending(booking)
        if pending is None or not pending.intent_id:
            return None
        return {
            "provider": pending.provider,
            "client_secret": pending.client_secret,
            "publishable_key": payment_gateway().publishable_key,
            "payment_intent": pending.intent_id,
        }

    def get_credit_balance(self, booking: Booking) -> int:
        own = None if self.context.get("proven") else booking
        return credit_balance(customer=booking.customer, made_by=own)

    def get_can_reschedule(self, booking: Booking) -> bool:
        return super().get_can_reschedule(booking) or booking_rebookable(booking)

    def get_cancellation_deadline(self, booking: Booking) -> str:
        return cancellation_deadline(booking).astimezone(booking.salon.tz).isoformat()


class ManageBookingView(manage.ManageBookingView):
    answer_serializer = ManageMoneySerializer

    @extend_schema(parameters=[PROOF_PARAMETER], responses=ManageMoneySerializer)
    def get(self, request: Request, token: str) -> Response:
        return super().get(request, token)


class ManageRescheduleView(manage.ManageRescheduleView):
    """What was paid stays with the booking, which keeps its id: it moves with it, and so
    does the cancellation deadline it already passed. A booking cancelled with credit (or
    whose rebooking lapsed unpaid) comes back through this same call, paid by its credit."""

    answer_serializer = ManageMoneySerializer

    def move(self, booking: Booking, start: dt.datetime, staff: StaffMember | None) -> Booking:
        return booking_move(booking=booking, start=start, staff=staff)

    @extend_schema(
        request=RescheduleSerializer, parameters=[PROOF_PARAMETER], responses=ManageMoneySerializer
    )
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        if booking.status not in (Status.CANCELLED, Status.EXPIRED):
            return super().post(request, token)
        payload = RescheduleSerializer(data=request.data, context={"tz": booking.salon.tz})
        payload.is_valid(raise_exception=True)
        staff = None
        if payload.validated_data.get("staff") is not None:
            staff = catalogue_get(salon=booking.salon).active_staff_for(
                payload.validated_data["staff"], booking.service_id
            )
            if staff is None:
                raise serializers.ValidationError({"staff": ["Nobody by this id offers it."]})
        try:
            checkout = booking_rebook_with_credit(
                booking=booking,
                start=payload.validated_data["start"],
                staff=staff,
                proven=self.proven(booking),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict
                if hasattr(exc, "error_dict")
                else {"non_field_errors": exc.messages}
            ) from exc
        checkout = checkout_charge(checkout)
        return self.answer(checkout.booking)


class ManageCancelView(manage.ManageView):
    answer_serializer = ManageMoneySerializer

    @extend_schema(request=manage.CancelSerializer, responses=ManageMoneySerializer)
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        payload = manage.CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        booking = booking_cancel_with_money(
            booking=booking, resolution=payload.validated_data["resolution"]
        )
        return self.answer(booking)
