"""The deposit policy and its quote, for the salon's staff (API.md, "Deposit policy")."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.selectors import booking_list, service_list
from core.query import query_date, query_id
from customers.models import Customer
from deposits.agreements import owed_settle
from deposits.models import (
    CardGuarantee,
    DepositKind,
    LateCancellation,
    OwedHow,
    WithdrawalRefund,
)
from deposits.rules import KINDS, Rule
from deposits.selectors import deposit_quote, policy_get
from deposits.services import policy_set
from tenants.models import Role
from tenants.money import AMOUNT_MAX, SMALL_MAX
from web.backoffice.catalogue import with_terms
from web.permissions import SalonRole, request_salon
from web.serializers import StaffBookingSerializer


class RuleSerializer(serializers.Serializer):
    """An amount rule, checked by `Rule.parse` (the fields say its shape to the schema)."""

    kind = serializers.ChoiceField(KINDS)
    value = serializers.IntegerField(
        min_value=0, max_value=AMOUNT_MAX, required=False, allow_null=True
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            return Rule.parse(data).as_dict()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc


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
    deposit_kind = serializers.ChoiceField(
        DepositKind.choices,
        required=False,
        help_text="What the money paid when booking is in French law (L214-1): `acompte` "
        "(the booking is firm) or `arrhes` (either side may withdraw; a salon that cancels "
        "repays them twice).",
    )
    withdrawal_refund = serializers.ChoiceField(
        WithdrawalRefund.choices,
        required=False,
        help_text="What a cancellation within 14 days of booking gives back: `full` (the "
        "right of withdrawal applies) or `policy` (the cancellation terms apply: "
        "appointments at a set date).",
    )
    version = serializers.IntegerField(read_only=True)
    card_guarantee = serializers.ChoiceField(CardGuarantee.choices, required=False)
    no_show_fee = RuleSerializer(
        required=False,
        allow_null=True,
        help_text="The no-show and late-cancellation fee (clamped like the deposit, never "
        "above the price); null: the deposit rule's amount.",
    )
    refuse_prepaid_cards = serializers.BooleanField(required=False)
    card_hold = serializers.BooleanField(
        required=False,
        help_text="Within five days of the appointment, hold the fee on the card when it "
        "is saved: taken if the client does not come, released otherwise.",
    )


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
        "deposit_kind": policy.deposit_kind,
        "withdrawal_refund": policy.withdrawal_refund,
        "version": policy.version,
        "card_guarantee": policy.card_guarantee,
        "no_show_fee": policy.no_show_fee.as_dict() if policy.no_show_fee else None,
        "refuse_prepaid_cards": policy.refuse_prepaid_cards,
        "card_hold": policy.card_hold,
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
        if "no_show_fee" in data:
            fee = data.pop("no_show_fee") or {}
            data["no_show_fee_kind"], data["no_show_fee_value"] = (
                fee.get("kind", ""),
                fee.get("value"),
            )
        policy_set(salon=the_salon, rule=data.pop("rule"), ramp=data.pop("ramp", []), **data)
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


class SettleOwedSerializer(serializers.Serializer):
    how = serializers.ChoiceField(
        OwedHow.choices,
        help_text="`credit`: a credit the client accepted, in the credit ledger; "
        "`paid_by_salon`: the salon paid it, recorded with who and when.",
    )


class SettleOwedView(GenericAPIView):
    """What the salon owes a client beyond the refund (arrhes repaid twice when it
    cancelled), settled once: 409 `nothing_owed` when nothing is owed."""

    permission_classes = [SalonRole]
    read_role = Role.MANAGER
    write_role = Role.MANAGER
    http_method_names = ["post", "options"]
    serializer_class = SettleOwedSerializer

    @extend_schema(
        request=SettleOwedSerializer,
        responses={200: StaffBookingSerializer, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, salon: str, pk: int) -> Response:
        the_salon = request_salon(request)
        booking = with_terms(booking_list(salon=the_salon)).filter(pk=pk).first()
        if booking is None:
            raise NotFound()
        payload = SettleOwedSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        owed_settle(booking=booking, how=payload.validated_data["how"], actor=request.user)
        fresh = with_terms(booking_list(salon=the_salon)).get(pk=pk)
        return Response(StaffBookingSerializer(fresh, context={"tz": the_salon.tz}).data)
