"""The client's own booking and the staff's cancellation, with what happens to the money."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.api import backoffice, manage
from bookings.api.serializers import ReasonSerializer
from bookings.models import Booking

from .credit import credit_balance
from .payments import booking_cancel_with_money, cancellation_deadline, deposit_state


class ManageMoneySerializer(manage.ManageBookingSerializer):
    def get_deposit(self, booking: Booking) -> dict[str, Any]:
        return deposit_state(booking)

    def get_credit_balance(self, booking: Booking) -> int:
        return credit_balance(customer=booking.customer)

    def get_cancellation_deadline(self, booking: Booking) -> str:
        return cancellation_deadline(booking).astimezone(booking.salon.tz).isoformat()


class ManageBookingView(manage.ManageBookingView):
    answer_serializer = ManageMoneySerializer

    @extend_schema(responses=ManageMoneySerializer)
    def get(self, request: Request, token: str) -> Response:
        return super().get(request, token)


class ManageRescheduleView(manage.ManageRescheduleView):
    """What was paid stays with the booking, which keeps its id: it moves with it."""

    answer_serializer = ManageMoneySerializer


class ManageCancelView(manage.ManageView):
    answer_serializer = ManageMoneySerializer

    @extend_schema(request=manage.CancelSerializer, responses=ManageMoneySerializer)
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        payload = manage.CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            booking = booking_cancel_with_money(
                booking=booking, resolution=payload.validated_data["resolution"]
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"non_field_errors": exc.messages}) from exc
        return self.answer(booking)


class BookingCancelView(backoffice.BookingActionView):
    """Cancelled by the salon: the client is refunded in full."""

    def act(self, booking: Booking, request: Request) -> Booking:
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return booking_cancel_with_money(booking=booking, by_salon=True, actor=request.user,
                                         reason=payload.validated_data["reason"])  # fmt: skip
