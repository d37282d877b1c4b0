"""Fees charged to a client's card on file (API.md, "Card guarantee")."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from deposits.guarantee import fee_pay_url
from deposits.models import FeeCharge, FeeKind, FeeStatus
from support.fees import fee_charge_take
from tenants.money import AMOUNT_MAX
from web.backoffice.catalogue import BookingActionView


class ChargeFeeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(FeeKind.choices)
    amount = serializers.IntegerField(
        min_value=1,
        max_value=AMOUNT_MAX,
        required=False,
        allow_null=True,
        help_text="Cents; by default the policy's fee less what the salon kept already.",
    )


class FeeAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(["succeeded", "requires_action", "failed", "pending"])
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    kind = serializers.ChoiceField(FeeKind.choices)
    pay_url = serializers.URLField(allow_null=True)


def fee_answer(fee: FeeCharge) -> dict[str, Any]:
    must_act = fee.status in (FeeStatus.REQUIRES_ACTION, FeeStatus.FAILED) and fee.intent_id
    return {
        "status": fee.status,
        "amount": fee.amount,
        "currency": fee.currency,
        "kind": fee.kind,
        "pay_url": fee_pay_url(fee) if must_act else None,
    }


class ChargeFeeView(BookingActionView):
    """A no-show or late-cancellation fee charged to the card the client saved, while she
    is away; asking again charges nothing more and answers the same. A card that needs
    her, or refuses, answers `requires_action` or `failed` with the link she was sent."""

    @extend_schema(
        request=ChargeFeeSerializer,
        responses={201: FeeAnswerSerializer, 409: OpenApiTypes.OBJECT, 502: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, salon: str, pk: int) -> Response:
        booking = self._booking(pk)
        payload = ChargeFeeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fee = fee_charge_take(
            booking=booking,
            kind=payload.validated_data["kind"],
            amount=payload.validated_data.get("amount"),
            actor=request.user,
        )
        return Response(fee_answer(fee), status=status.HTTP_201_CREATED)
