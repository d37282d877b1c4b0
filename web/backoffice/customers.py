from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from customers.models import Channel, ConsentChannel, ConsentEvent, Customer, Purpose
from customers.preferences import preferences_check
from customers.selectors import consent_history, customer_export, customer_get, customer_list
from customers.services import customer_create, customer_erase, customer_merge, customer_update
from tenants.models import Role
from web.permissions import SalonRole, request_salon


class PreferencesField(serializers.JSONField):
    """{"services": [ids], "staff": [ids], "days": [0-6], "times": [...], "products": "...",
    "allergies": "...", "notes": "..."}, checked by customers.preferences."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        try:
            return preferences_check(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class CustomerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )
    preferred_channel = serializers.ChoiceField(Channel.choices, required=False)
    language = serializers.ChoiceField(settings.LANGUAGES, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, required=False
    )
    preferences = PreferencesField(required=False)
    trusted = serializers.BooleanField(required=False)
    blocked = serializers.BooleanField(required=False)
    marketing_consent = serializers.BooleanField(required=False)
    reminders_consent = serializers.BooleanField(required=False)
    health_consent = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="The client agrees that the salon keeps her allergies and health notes "
        "(`preferences.allergies`, refused without it; withdrawn, they are forgotten).",
    )
    consent_channel = serializers.ChoiceField(
        ConsentChannel.choices,
        required=False,
        write_only=True,
        help_text="How the client expressed the consent given here (default: phone).",
    )

    def split(self) -> tuple[dict[str, Any], dict[str, bool], str]:
        """(customer fields, consents by purpose, consent channel)."""
        data = dict(self.validated_data)
        consents = {
            purpose: data.pop(f"{purpose}_consent")
            for purpose in Purpose.values
            if f"{purpose}_consent" in data
        }
        channel = data.pop("consent_channel", ConsentChannel.PHONE)
        return data, consents, channel


class CustomerSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    erased = serializers.BooleanField(read_only=True)
    marketing_consent = serializers.BooleanField(read_only=True)
    reminders_consent = serializers.BooleanField(read_only=True)
    visits = serializers.IntegerField(read_only=True)
    no_shows = serializers.IntegerField(read_only=True)
    cancellations = serializers.IntegerField(read_only=True)
    credit_balance = serializers.IntegerField(read_only=True)
    lifetime_value = serializers.IntegerField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "phone",
            "email",
            "preferred_channel",
            "language",
            "notes",
            "tags",
            "preferences",
            "trusted",
            "blocked",
            "marketing_consent",
            "reminders_consent",
            "visits",
            "no_shows",
            "cancellations",
            "credit_balance",
            "lifetime_value",
            "created_at",
            "last_seen_at",
            "erased",
            "duplicate_of",
        ]
        read_only_fields = ["duplicate_of"]

    def get_phone(self, customer: Customer) -> str | None:
        return str(customer.phone) if customer.phone else None

    def get_tags(self, customer: Customer) -> list[str]:
        return [tag.name for tag in customer.tags.all()]


class ConsentEventSerializer(serializers.ModelSerializer):
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "purpose",
            "granted",
            "text_version",
            "channel",
            "source",
            "recorded_by",
            "recorded_at",
        ]

    def get_recorded_by(self, event: ConsentEvent) -> str | None:
        return event.recorded_by.get_username() if event.recorded_by else None


class _CustomerView(GenericAPIView):
    permission_classes = [SalonRole]
    serializer_class = CustomerSerializer

    def customer(self, pk: int) -> Customer:
        found = customer_get(salon=request_salon(self.request), pk=pk)
        if found is None:
            raise Http404
        return found

    def answer(self, customer: Customer, code: int = status.HTTP_200_OK) -> Response:
        fresh = customer_get(salon=request_salon(self.request), pk=customer.pk)
        return Response(CustomerSerializer(fresh).data, status=code)


class CustomerListView(_CustomerView):
    """The salon's clients; `search` matches part of the name, the e-mail or the phone
    typed in any form."""

    @extend_schema(
        parameters=[OpenApiParameter("search", OpenApiTypes.STR)],
        responses=CustomerSerializer(many=True),
    )
    def get(self, request: Request, salon: str) -> Response:
        search = request.query_params.get("search")
        if search is not None and any(ord(c) < 32 or c == "\x7f" for c in search):
            # PostgreSQL cannot compare text holding a NUL; no name or number holds one.
            raise serializers.ValidationError({"search": ["Give letters, digits or symbols."]})
        customers = customer_list(salon=request_salon(request), search=search)
        page = self.paginate_queryset(customers)
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(request=CustomerInputSerializer, responses={201: CustomerSerializer})
    def post(self, request: Request, salon: str) -> Response:
        serializer = CustomerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields, consents, channel = serializer.split()
        customer = customer_create(
            salon=request_salon(request),
            consents=consents,
            consent_channel=channel,
            actor=request.user,
            **fields,
        )
        return self.answer(customer, status.HTTP_201_CREATED)


class CustomerDetailView(_CustomerView):
    def get(self, request: Request, salon: str, pk: int) -> Response:
        return Response(CustomerSerializer(self.customer(pk)).data)

    @extend_schema(request=CustomerInputSerializer, responses=CustomerSerializer)
    def patch(self, request: Request, salon: str, pk: int) -> Response:
        customer = self.customer(pk)
        serializer = CustomerInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields, consents, channel = serializer.split()
        customer_update(
            customer=customer,
            consents=consents,
            consent_channel=channel,
            actor=request.user,
            **fields,
        )
        return self.answer(customer)


class CustomerExportView(_CustomerView):
    """Every stored fact about the person (GDPR right of access)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, salon: str, pk: int) -> Response:
        return Response(customer_export(customer=self.customer(pk)))


class CustomerEraseView(_CustomerView):
    """Anonymise the person (GDPR erasure); bookings and payments stay for accounting."""

    write_role = Role.MANAGER

    @extend_schema(request=None, responses=CustomerSerializer)
    def post(self, request: Request, salon: str, pk: int) -> Response:
        return self.answer(customer_erase(customer=self.customer(pk), actor=request.user))


class CustomerConsentsView(_CustomerView):
    """The consent ledger of one client, newest first."""

    pagination_class = None  # the whole ledger, as the export has it

    @extend_schema(responses=ConsentEventSerializer(many=True))
    def get(self, request: Request, salon: str, pk: int) -> Response:
        events = consent_history(customer=self.customer(pk))
        return Response(ConsentEventSerializer(events, many=True).data)


class MergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(help_text="The client this one is the same person as.")


class CustomerMergeView(_CustomerView):
    """This client and `into` are one person (staff know it; an online booker with a
    client's phone or e-mail is not merged without them): everything held about this one
    moves to `into`, whose details and flags stay, and this one is deleted. → `into`."""

    write_role = Role.MANAGER

    @extend_schema(request=MergeSerializer, responses=CustomerSerializer)
    def post(self, request: Request, salon: str, pk: int) -> Response:
        source = self.customer(pk)
        payload = MergeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        into = customer_get(salon=request_salon(request), pk=payload.validated_data["into"])
        if into is None:
            raise serializers.ValidationError({"into": ["No such client."]})
        merged = customer_merge(source=source, into=into, actor=request.user)
        return self.answer(merged)
