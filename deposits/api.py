from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.api.public import PublicView, resolve_booking_request
from bookings.api.serializers import (
    BookingRequestSerializer,
    BookingSerializer,
    PublicServiceSerializer,
)
from bookings.models import Booking
from bookings.selectors import service_list
from config.db.retry import atomic_retried
from config.ratelimit import BOOKING, ClientThrottle, contact_keys, limit_reached
from core.query import query_date, query_id
from customers.identity import PROOF_HEADER, proof_from_request
from customers.models import Customer
from tenants.models import Role, Salon
from tenants.money import AMOUNT_MAX, SMALL_MAX
from tenants.permissions import SalonRole, request_salon

from .gateway import payment_gateway
from .models import LateCancellation
from .payments import Checkout, checkout_charge, checkout_hold
from .selectors import deposit_quote, deposit_terms, deposits_today, policy_get
from .services import policy_set


class RuleSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(["none", "fixed", "percent", "full"])
    value = serializers.IntegerField(
        min_value=0, max_value=AMOUNT_MAX, required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind, value = attrs["kind"], attrs.get("value")
        if kind in {"fixed", "percent"} and value is None:
            raise serializers.ValidationError({"value": ["A fixed or percent rule needs a value."]})
        if kind == "percent" and value is not None and value > 100:
            raise serializers.ValidationError({"value": ["A percentage is at most 100."]})
        return {"kind": kind, "value": value if kind in {"fixed", "percent"} else None}


class RampStepSerializer(serializers.Serializer):
    starts_on = serializers.DateField()
    rule = RuleSerializer()


class DepositPolicySerializer(serializers.Serializer):
    rule = RuleSerializer()
    min_amount = serializers.IntegerField(
        min_value=0, max_value=AMOUNT_MAX, allow_null=True, required=False
    )
    max_amount = serializers.IntegerField(
        min_value=0, max_value=AMOUNT_MAX, allow_null=True, required=False
    )
    ramp = RampStepSerializer(many=True, required=False)
    allow_full_payment = serializers.BooleanField(required=False)
    trusted_after_visits = serializers.IntegerField(
        min_value=1, max_value=SMALL_MAX, allow_null=True, required=False
    )
    full_prepayment_after_no_shows = serializers.IntegerField(
        min_value=1, max_value=SMALL_MAX, allow_null=True, required=False
    )
    cancellation_window_hours = serializers.IntegerField(
        min_value=0, max_value=1440, required=False
    )
    late_cancellation = serializers.ChoiceField(LateCancellation.choices, required=False)
    credit_valid_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    hold_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    payment_link_hours = serializers.IntegerField(min_value=1, max_value=336, required=False)


def policy_answer(salon: Any) -> dict[str, Any]:
    policy, steps = policy_get(salon=salon)
    return {
        "rule": policy.rule.as_dict(),
        "min_amount": policy.min_amount,
        "max_amount": policy.max_amount,
        "ramp": [{"starts_on": s.starts_on.isoformat(), "rule": s.rule.as_dict()} for s in steps],
        "allow_full_payment": policy.allow_full_payment,
        "trusted_after_visits": policy.trusted_after_visits,
        "full_prepayment_after_no_shows": policy.full_prepayment_after_no_shows,
        "cancellation_window_hours": policy.cancellation_window_hours,
        "late_cancellation": policy.late_cancellation,
        "credit_valid_days": policy.credit_valid_days,
        "hold_minutes": policy.hold_minutes,
        "payment_link_hours": policy.payment_link_hours,
    }


class DepositPolicyView(GenericAPIView):
    """The salon's deposit policy: owners and managers read and replace it."""

    permission_classes = [SalonRole]
    read_role = Role.MANAGER
    write_role = Role.MANAGER
    serializer_class = DepositPolicySerializer

    def get(self, request: Request, salon: str) -> Response:
        return Response(policy_answer(request_salon(request)))

    def put(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = DepositPolicySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        try:
            policy_set(salon=the_salon, rule=data.pop("rule"), ramp=data.pop("ramp", []), **data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(policy_answer(the_salon))


QuoteAnswer = inline_serializer(
    "Quote",
    {
        "amount": serializers.IntegerField(),
        "currency": serializers.CharField(),
        "rule": RuleSerializer(),
        "source": serializers.ChoiceField(
            ["base", "ramp_step", "service_override", "trusted_customer", "no_show_history"]
        ),
        "reason": serializers.CharField(),
    },
)


class QuoteView(GenericAPIView):
    """What would be due as deposit for a service on a date, for a client or a new one."""

    permission_classes = [SalonRole]
    read_role = Role.MANAGER

    @extend_schema(
        parameters=[
            OpenApiParameter("service", OpenApiTypes.INT, required=True),
            OpenApiParameter("date", OpenApiTypes.DATE, required=True),
            OpenApiParameter("customer", OpenApiTypes.INT),
        ],
        responses=QuoteAnswer,
    )
    def get(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        errors: dict[str, list[str]] = {}
        params = request.query_params
        day = query_date(params, "date", errors)
        service_id = query_id(params, "service", errors)
        customer_id = query_id(params, "customer", errors)
        service = (
            service_list(salon=the_salon).filter(pk=service_id).first()
            if service_id is not None
            else None
        )
        if service is None and "service" not in errors:
            errors["service"] = ["No such service."]
        customer = None
        if customer_id is not None:
            customer = Customer.objects.filter(pk=customer_id).first()
            if customer is None:
                errors["customer"] = ["No such client."]
        if errors or service is None or day is None:
            raise serializers.ValidationError(errors)
        quote = deposit_quote(salon=the_salon, service=service, day=day, customer=customer)
        return Response(
            {
                "amount": quote.amount,
                "currency": the_salon.currency,
                "rule": quote.rule.as_dict(),
                "source": quote.source,
                "reason": quote.reason,
            }
        )


SalonPublic = inline_serializer(
    "SalonPublic",
    {
        "slug": serializers.CharField(),
        "name": serializers.CharField(),
        "timezone": serializers.CharField(),
        "currency": serializers.CharField(),
        "country": serializers.CharField(),
        "phone": serializers.CharField(),
        "email": serializers.CharField(),
        "address": serializers.CharField(),
        "deposit_terms": serializers.CharField(),
    },
)


def salon_public(salon: Salon, terms: str) -> dict[str, Any]:
    return {
        "slug": salon.slug,
        "name": salon.name,
        "timezone": salon.timezone,
        "currency": salon.currency,
        "country": salon.country,
        "phone": str(salon.phone) if salon.phone else "",
        "email": salon.email,
        "address": salon.address,
        "deposit_terms": terms,
    }


class SalonPublicView(PublicView):
    @extend_schema(responses=SalonPublic)
    def get(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        return Response(salon_public(the_salon, deposit_terms(salon=the_salon)))


class ServiceListView(PublicView):
    @extend_schema(responses=PublicServiceSerializer(many=True))
    def get(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        services = list(service_list(salon=the_salon, active_only=True))
        context = {
            "salon": the_salon,
            "deposits": deposits_today(salon=the_salon, services=services),
        }
        return Response(PublicServiceSerializer(services, many=True, context=context).data)


class CheckoutBookingSerializer(BookingSerializer):
    """The booking answer with its money: the deposit asked, what is due now and how to
    pay it (the Payment Element's client secret)."""

    def _checkout(self) -> Checkout:
        checkout: Checkout = self.context["checkout"]
        return checkout

    def get_deposit_amount(self, booking: Booking) -> int:
        return self._checkout().deposit

    def get_amount_due_now(self, booking: Booking) -> int:
        payment = self._checkout().payment
        return payment.amount if payment else 0

    def get_payment(self, booking: Booking) -> dict[str, Any] | None:
        payment = self._checkout().payment
        if payment is None:
            return None
        return {
            "provider": payment.provider,
            "client_secret": payment.client_secret,
            "publishable_key": payment_gateway().publishable_key,
            "payment_intent": payment.intent_id,
        }


PROOF_PARAMETER = OpenApiParameter(
    PROOF_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A proof that the client is who she says (`proof` from `.../identity/verify/` "
    "or `/manage/{token}/verify/confirm/`). Without it, the contact details typed prove "
    "nothing: a known client's phone or e-mail gets none of her privileges or credit.",
)


class BookingCreateView(PublicView):
    """A client books online: the slot is held while the deposit (or the full price) is
    paid through the Payment Element; with nothing due, it is confirmed at once.

    Limited per client address (the throttle) and per phone and e-mail given (below)."""

    throttle_classes = [ClientThrottle]
    throttle_scope = BOOKING

    @extend_schema(
        request=BookingRequestSerializer,
        parameters=[PROOF_PARAMETER],
        responses={
            201: BookingSerializer,
            409: OpenApiTypes.OBJECT,
            429: OpenApiTypes.OBJECT,
            502: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = BookingRequestSerializer(data=request.data, context={"tz": the_salon.tz})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        details = data["customer"]
        contact = contact_keys(
            phone=details.get("phone"), email=details.get("email"), country=the_salon.country
        )
        wait = limit_reached(request, group=BOOKING, keys=contact)
        if wait is not None:
            raise exceptions.Throttled(wait=wait)

        # The client, the booking and its payment row in one transaction, run again if
        # PostgreSQL aborts it for a deadlock; the provider is called once it has committed.
        proven = proof_from_request(request, salon_id=the_salon.pk)

        def book() -> Checkout:
            service, staff, customer = resolve_booking_request(the_salon, data, proven=proven)
            return checkout_hold(
                salon=the_salon,
                service=service,
                staff=staff,
                start=data["start"],
                customer=customer,
                payment_option=data["payment_option"],
                notes=data["notes"],
            )

        try:
            checkout = atomic_retried(book)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        checkout = checkout_charge(checkout)
        context = {"tz": the_salon.tz, "checkout": checkout}
        return Response(
            CheckoutBookingSerializer(checkout.booking, context=context).data,
            status=status.HTTP_201_CREATED,
        )
