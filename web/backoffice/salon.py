from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.ratelimit import LOGIN, ClientThrottle
from tenants.models import SETTINGS_ROLE, Membership, Role, Salon, validate_salon_name
from tenants.phones import phone_parse
from tenants.selectors import membership_list
from tenants.services import auth_token_get, salon_update
from web.permissions import SalonRole, request_salon


class TokenObtainView(APIView):
    """Exchange a username and password for the user's API token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientThrottle]
    throttle_scope = LOGIN

    @extend_schema(
        request=AuthTokenSerializer,
        responses=inline_serializer("Token", {"token": serializers.CharField()}),
    )
    def post(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response({"token": auth_token_get(user=serializer.validated_data["user"])})


class SalonSettingsSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(allow_blank=True, required=False)
    stripe_account = serializers.CharField(
        allow_null=True, allow_blank=True, required=False, max_length=255
    )

    class Meta:
        model = Salon
        fields = [
            "slug",
            "name",
            "timezone",
            "currency",
            "country",
            "phone",
            "email",
            "address",
            "kind",
            "description",
            "languages",
            "slot_step_minutes",
            "min_notice_minutes",
            "max_advance_days",
            "max_gap_minutes",
            "reminder_offsets_hours",
            "quiet_hours",
            "waitlist_mode",
            "offer_minutes",
            "stripe_account",
        ]
        read_only_fields = ["slug"]
        extra_kwargs = {"name": {"validators": [validate_salon_name]}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        country = attrs.get("country") or (self.instance.country if self.instance else "")
        if attrs.get("phone"):
            try:
                attrs["phone"] = phone_parse(attrs["phone"], country=country)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"phone": exc.messages}) from exc
        if "stripe_account" in attrs and not attrs["stripe_account"]:
            attrs["stripe_account"] = None
        return attrs

    def to_representation(self, instance: Salon) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["phone"] = str(instance.phone) if instance.phone else ""
        return data


class SalonSettingsView(generics.GenericAPIView):
    """The salon's settings: the owner changes them, managers read them."""

    permission_classes = [SalonRole]
    read_role = Role.MANAGER
    write_role = SETTINGS_ROLE
    serializer_class = SalonSettingsSerializer

    def get(self, request: Request, salon: str) -> Response:
        return Response(self.get_serializer(request_salon(request)).data)

    def patch(self, request: Request, salon: str) -> Response:
        serializer = self.get_serializer(request_salon(request), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = salon_update(
            salon=request_salon(request), actor=request.user, **serializer.validated_data
        )
        return Response(self.get_serializer(updated).data)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["id", "username", "name", "email", "role", "created_at"]


class MemberListView(generics.ListAPIView):
    """The salon's team and their roles (managers and owners)."""

    permission_classes = [SalonRole]
    read_role = Role.MANAGER
    serializer_class = MemberSerializer

    def get_queryset(self) -> Any:
        return membership_list(salon=request_salon(self.request))


class MemberDetailView(generics.RetrieveAPIView):
    permission_classes = [SalonRole]
    read_role = Role.MANAGER
    serializer_class = MemberSerializer

    def get_object(self) -> Membership:
        return get_object_or_404(
            membership_list(salon=request_salon(self.request)),
            pk=self.kwargs["pk"],
        )
