import datetime as dt
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings.models import (
    Booking,
    Resource,
    ResourceKind,
    Service,
    StaffMember,
    Status,
    TimeOff,
)
from bookings.selectors import booking_cancellable
from bookings.services import booking_manage_token, manage_url
from deposits.agreements import owed_to_client, terms_answer
from deposits.checkout import Guest
from deposits.credit import credit_balance
from deposits.gateway import payment_gateway
from deposits.guarantee import card_awaited
from deposits.interest import Interest, interest_and_balance
from deposits.models import DESK, Payment
from deposits.payments import (
    Checkout,
    booking_rebookable,
    cancellation_deadline,
    deposit_state,
    pending_payment,
)
from support.models import WaitlistSource
from support.offers import offer_state
from support.refill import offer_url
from support.waitlist import waitlist_token
from web.fields import HourMinuteField, SalonDateTimeField, SalonRowField


class PublicServiceSerializer(serializers.ModelSerializer):
    currency = serializers.SerializerMethodField()
    deposit_today = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "description",
            "duration_minutes",
            "price",
            "currency",
            "deposit_today",
        ]

    def get_currency(self, service: Service) -> str:
        return str(self.context["salon"].currency)

    def get_deposit_today(self, service: Service) -> int:
        # What a new client pays now: nothing until the salon sets a deposit policy.
        return int(self.context.get("deposits", {}).get(service.pk, 0))


class PublicStaffSerializer(serializers.ModelSerializer):
    service_ids = serializers.SerializerMethodField()

    class Meta:
        model = StaffMember
        fields = ["id", "name", "service_ids"]

    def get_service_ids(self, staff: StaffMember) -> list[int]:
        return sorted(s.pk for s in staff.services.all() if s.active)


class CustomerDetailsSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="Staff only: an existing client.")
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "id" in attrs:
            return attrs
        if not (attrs.get("name") or "").strip():
            raise serializers.ValidationError({"name": ["Tell us your name."]})
        if not (attrs.get("phone") or "").strip() and not (attrs.get("email") or "").strip():
            raise serializers.ValidationError(
                {"phone": ["Give a phone number or an e-mail address."]}
            )
        return attrs


class GuestRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, allow_blank=True)
    services = serializers.ListField(child=serializers.IntegerField(), max_length=20)


class BookingRequestSerializer(serializers.Serializer):
    service = serializers.IntegerField(required=False)
    services = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=20,
        help_text="A visit: the client's services in order, instead of `service`.",
    )
    guests = serializers.ListField(
        child=GuestRequestSerializer(),
        required=False,
        max_length=20,
        help_text="Other people in the same booking, each with her services.",
    )
    start = SalonDateTimeField()
    staff = serializers.IntegerField(required=False, allow_null=True)
    customer = CustomerDetailsSerializer()
    payment_option = serializers.ChoiceField(["deposit", "full"], default="deposit")
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    marketing_consent = serializers.BooleanField(default=False)
    reminders_consent = serializers.BooleanField(default=True)
    language = serializers.ChoiceField(settings.LANGUAGES, required=False)
    accept_terms = serializers.BooleanField(
        required=False,
        default=True,
        help_text="The client accepts the deposit terms (the salon's `deposit_terms`, the "
        "answer's `terms`). Absent, booking is taken as accepting them, as through the "
        "salon's own booking page, which shows them; `false` books nothing (400).",
    )
    express_request = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="For an appointment within the 14-day withdrawal period, when the salon "
        "applies that right: the client asks for it to go ahead. Recorded in `terms`; null "
        "there when it was not asked.",
    )

    def validate_accept_terms(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Accept the booking terms to book.")
        return value

    def validate_customer(self, value: dict[str, Any]) -> dict[str, Any]:
        if "id" in value and not self.context.get("staff"):
            raise serializers.ValidationError({"id": ["Give your name and phone or e-mail."]})
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "service" in attrs and "services" in attrs:
            raise serializers.ValidationError({"services": ["Give `service` or `services`."]})
        if "service" not in attrs and not attrs.get("services"):
            raise serializers.ValidationError({"service": ["This field is required."]})
        return attrs


def checkout_visit(data: dict[str, Any]) -> dict[str, Any]:
    """The services and guests of a booking request, as `CheckoutRequest` takes them."""
    return {
        "service_id": data.get("service"),
        "service_ids": tuple(data.get("services") or ()),
        "guests": tuple(
            Guest(guest["name"], tuple(guest["services"])) for guest in data.get("guests") or ()
        ),
    }


class RescheduleSerializer(serializers.Serializer):
    start = SalonDateTimeField()
    staff = serializers.IntegerField(required=False, allow_null=True)


class CardSetupSerializer(serializers.Serializer):
    client_secret = serializers.CharField()
    setup_intent = serializers.CharField()
    amount = serializers.IntegerField(help_text="The most the card may be charged, in cents.")
    authorisation = serializers.CharField(help_text="What the client authorises, as shown.")


class BookingSerializer(serializers.Serializer):
    """A booking as its client and the API see it (API.md, booking response), with its
    money: from the checkout that has just made it (context `checkout`), else from the
    booking's payments.

    A plain serializer: it answers every booking request, and a model serializer would
    rebuild its fields from the model each time."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(Status.choices)
    start = SalonDateTimeField()
    end = SalonDateTimeField()
    hold_expires_at = SalonDateTimeField(allow_null=True)
    deposit_amount = serializers.SerializerMethodField()
    amount_due_now = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField()
    setup = serializers.SerializerMethodField()
    manage_token = serializers.SerializerMethodField()
    manage_url = serializers.SerializerMethodField()
    service = serializers.IntegerField(source="service_id")
    staff = serializers.IntegerField(source="staff_id")
    price = serializers.IntegerField()
    currency = serializers.CharField()
    items = serializers.SerializerMethodField()
    terms = serializers.SerializerMethodField()

    def get_terms(self, booking: Booking) -> dict[str, Any] | None:
        """The terms the booking was made under (API.md, "Deposit terms")."""
        return terms_answer(booking)

    def get_items(self, booking: Booking) -> list[dict[str, Any]]:
        """The visit's services in order (one for a one-service booking)."""
        tz = self.context.get("tz") or booking.salon.tz
        items = list(booking.items.all())
        deposit = self.get_deposit_amount(booking) if len(items) == 1 else None
        return [
            {
                "service": item.service_id,
                "staff": item.staff_id,
                "start": item.start.astimezone(tz).isoformat(),
                "end": item.end.astimezone(tz).isoformat(),
                "guest": item.guest or None,
                "price": item.price,
                "deposit_amount": deposit if deposit is not None else item.deposit_amount,
            }
            for item in items
        ]

    def _checkout(self) -> Checkout | None:
        checkout: Checkout | None = self.context.get("checkout")
        return checkout

    def _due(self, booking: Booking) -> Payment | None:
        """The payment the client has to make now (one taken at the desk is not); read
        once for the fields that show it."""
        if (checkout := self._checkout()) is not None:
            paid_at_desk = checkout.payment is not None and checkout.payment.provider == DESK
            return None if paid_at_desk else checkout.payment
        read: dict[int, Payment | None] = self.__dict__.setdefault("_due_read", {})
        if booking.pk not in read:
            read[booking.pk] = pending_payment(booking)
        return read[booking.pk]

    def get_deposit_amount(self, booking: Booking) -> int:
        if (checkout := self._checkout()) is not None:
            return checkout.deposit
        return int(str(deposit_state(booking)["amount"]))

    def get_amount_due_now(self, booking: Booking) -> int:
        due = self._due(booking)
        return due.amount if due else 0

    def get_payment(self, booking: Booking) -> dict[str, Any] | None:
        due = self._due(booking)
        if due is None or not due.intent_id:
            return None
        return {
            "provider": due.provider,
            "client_secret": due.client_secret,
            "publishable_key": payment_gateway().publishable_key,
            "payment_intent": due.intent_id,
        }

    @extend_schema_field(CardSetupSerializer(allow_null=True))
    def get_setup(self, booking: Booking) -> dict[str, Any] | None:
        """The card on file the booking waits for (API.md, "Card guarantee"): the
        SetupIntent the page confirms with the client's card, and what she authorises."""
        checkout = self._checkout()
        card = checkout.card if checkout is not None else card_awaited(booking)
        if card is None or not card.setup_intent or booking.status != Status.PENDING_PAYMENT:
            return None
        return {
            "client_secret": card.client_secret,
            "setup_intent": card.setup_intent,
            "amount": card.amount,
            "authorisation": card.authorisation_text,
        }

    def get_manage_token(self, booking: Booking) -> str:
        return booking_manage_token(booking)

    def get_manage_url(self, booking: Booking) -> str:
        return manage_url(booking)


class ManageBookingSerializer(BookingSerializer):
    """A booking seen through its manage link: what was paid and became of it, the
    credit, and what the client may still do (API.md, "Manage")."""

    deposit = serializers.SerializerMethodField()
    credit_balance = serializers.SerializerMethodField()
    cancellation_deadline = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()
    can_reschedule = serializers.SerializerMethodField()
    confirmed_by_client_at = SalonDateTimeField(allow_null=True, read_only=True)
    owed_to_client = serializers.SerializerMethodField()
    interest = serializers.SerializerMethodField()
    balance_due = serializers.SerializerMethodField()

    def get_deposit(self, booking: Booking) -> dict[str, Any]:
        return deposit_state(booking)

    def _interest_and_balance(self, booking: Booking) -> tuple[Interest | None, int]:
        """Read once for both fields (the payments in one query)."""
        cache: dict[int, tuple[Interest | None, int]] = self.__dict__.setdefault("_money_left", {})
        if booking.pk not in cache:
            cache[booking.pk] = interest_and_balance(booking)
        return cache[booking.pk]

    def get_interest(self, booking: Booking) -> dict[str, Any] | None:
        """The legal interest on money held more than three months (L214-2), in cents,
        counted to the appointment's day and deducted from `balance_due`; null when none."""
        interest, _balance = self._interest_and_balance(booking)
        if interest is None:
            return None
        return {
            "amount": interest.amount,
            "rate": str(interest.rate),
            "since": interest.since.isoformat(),
            "until": interest.until.isoformat(),
        }

    def get_balance_due(self, booking: Booking) -> int:
        """What is left to pay at the appointment, in cents: the price less what the salon
        holds for it and the interest on that."""
        return self._interest_and_balance(booking)[1]

    def get_owed_to_client(self, booking: Booking) -> int:
        """What the salon still owes beyond refunds (arrhes repaid twice), in cents."""
        return owed_to_client(booking)

    def get_credit_balance(self, booking: Booking) -> int:
        own = None if self.context.get("proven") else booking
        return credit_balance(customer=booking.customer, made_by=own)

    def get_cancellation_deadline(self, booking: Booking) -> str:
        return cancellation_deadline(booking).astimezone(booking.salon.tz).isoformat()

    def get_can_cancel(self, booking: Booking) -> bool:
        return booking_cancellable(booking)

    def get_can_reschedule(self, booking: Booking) -> bool:
        return booking_cancellable(booking) or booking_rebookable(booking)


class StaffBookingSerializer(serializers.ModelSerializer):
    """A booking as the front desk sees it."""

    start = SalonDateTimeField()
    end = SalonDateTimeField()
    hold_expires_at = SalonDateTimeField(allow_null=True)
    created_at = SalonDateTimeField()
    confirmed_by_client_at = SalonDateTimeField(allow_null=True, read_only=True)
    customer = serializers.SerializerMethodField()
    service_name = serializers.CharField(source="service.name")
    staff_name = serializers.CharField(source="staff.name")
    items = serializers.SerializerMethodField()
    terms = serializers.SerializerMethodField()
    owed_to_client = serializers.SerializerMethodField()

    class Meta:
        model = Booking
        fields = [
            "id",
            "reference",
            "status",
            "start",
            "end",
            "service",
            "service_name",
            "staff",
            "staff_name",
            "items",
            "customer",
            "price",
            "currency",
            "source",
            "hold_expires_at",
            "notes",
            "created_at",
            "cancellation_reason",
            "cancelled_by_salon",
            "confirmed_by_client_at",
            "terms",
            "owed_to_client",
        ]

    def get_terms(self, booking: Booking) -> dict[str, Any] | None:
        return terms_answer(booking)

    def get_owed_to_client(self, booking: Booking) -> int:
        return owed_to_client(booking)

    def get_items(self, booking: Booking) -> list[dict[str, Any]]:
        """The visit's services, with the setting time during which the staff member is
        free for someone else (the desk's calendar draws it)."""
        tz = self.context.get("tz") or booking.salon.tz
        out = []
        for item in booking.items.all():
            service = item.service
            processing = None
            if service.processing_minutes:
                begins = item.start + dt.timedelta(minutes=service.processing_offset_minutes)
                ends = begins + dt.timedelta(minutes=service.processing_minutes)
                processing = {
                    "start": begins.astimezone(tz).isoformat(),
                    "end": ends.astimezone(tz).isoformat(),
                }
            out.append(
                {
                    "service": item.service_id,
                    "service_name": service.name,
                    "staff": item.staff_id,
                    "staff_name": item.staff.name,
                    "start": item.start.astimezone(tz).isoformat(),
                    "end": item.end.astimezone(tz).isoformat(),
                    "guest": item.guest or None,
                    "price": item.price,
                    "resource": item.resource_id,
                    "processing": processing,
                }
            )
        return out

    def get_customer(self, booking: Booking) -> dict[str, Any]:
        c = booking.customer
        return {
            "id": c.pk,
            "name": c.name,
            "phone": str(c.phone) if c.phone else None,
            "email": c.email,
        }


class ServiceSerializer(serializers.ModelSerializer):
    # The request's scope: the salon's own kinds and services only (another's is "invalid").
    resource_kind = SalonRowField(ResourceKind, allow_null=True, required=False)
    addons = SalonRowField(Service, many=True, required=False)

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "description",
            "duration_minutes",
            "price",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "processing_offset_minutes",
            "processing_minutes",
            "resource_kind",
            "addons",
            "rebook_after_days",
            "active",
            "deposit_override",
        ]

    def validate_addons(self, value: list[Service]) -> list[Service]:
        if self.instance is not None and any(s.pk == self.instance.pk for s in value):
            raise serializers.ValidationError("A service is not its own add-on.")
        return value


class ResourceKindSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResourceKind
        fields = ["id", "name"]


class ResourceSerializer(serializers.ModelSerializer):
    kind = SalonRowField(ResourceKind)

    class Meta:
        model = Resource
        fields = ["id", "name", "kind", "quantity", "active"]


class StaffSerializer(serializers.ModelSerializer):
    service_ids = serializers.ListField(child=serializers.IntegerField(), required=False)

    class Meta:
        model = StaffMember
        fields = ["id", "name", "service_ids", "active", "bio"]

    def to_representation(self, instance: StaffMember) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["service_ids"] = sorted(s.pk for s in instance.services.all())
        return data


class HoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    start = HourMinuteField()
    end = HourMinuteField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": ["The end comes after the start."]})
        return attrs


class TimeOffSerializer(serializers.ModelSerializer):
    start = SalonDateTimeField()
    end = SalonDateTimeField()
    staff = serializers.IntegerField(source="staff_id", allow_null=True, required=False)

    class Meta:
        model = TimeOff
        fields = ["id", "staff", "start", "end", "reason"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": ["The end comes after the start."]})
        return attrs


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# The waitlist (API.md, "Waitlist") ---------------------------------------------------


class WaitlistRequestSerializer(serializers.Serializer):
    """Joining: the services of the visit, with whom, between two dates, in which parts of
    the day, and the client's consent to be told."""

    services = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=5)
    staff = serializers.IntegerField(required=False, allow_null=True)
    from_ = serializers.DateField()
    to = serializers.DateField()
    parts_of_day = serializers.ListField(
        child=serializers.ChoiceField(["morning", "afternoon", "evening"]),
        required=False,
        default=list,
        max_length=3,
        help_text="Morning is before 12:00, afternoon 12:00 to 17:00, evening from 17:00 "
        "(salon time); empty: any time.",
    )
    customer = CustomerDetailsSerializer()
    consent = serializers.BooleanField()
    language = serializers.ChoiceField(settings.LANGUAGES, required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate_customer(self, value: dict[str, Any]) -> dict[str, Any]:
        if "id" in value and not self.context.get("staff"):
            raise serializers.ValidationError({"id": ["Give your name and phone or e-mail."]})
        return value


class WaitlistOfferSerializer(serializers.Serializer):
    token = serializers.CharField()
    start = SalonDateTimeField()
    end = SalonDateTimeField()
    items = serializers.SerializerMethodField()
    expires_at = SalonDateTimeField()
    status = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def get_items(self, offer: Any) -> list[dict[str, Any]]:
        tz = self.context["tz"]
        return [
            {
                "service": item["service"],
                "staff": item["staff"],
                "start": dt.datetime.fromisoformat(item["start"]).astimezone(tz).isoformat(),
                "end": dt.datetime.fromisoformat(item["end"]).astimezone(tz).isoformat(),
            }
            for item in offer.items
        ]

    def get_status(self, offer: Any) -> str:
        return offer_state(offer)

    def get_url(self, offer: Any) -> str:
        return offer_url(offer)


class WaitlistEntrySerializer(serializers.Serializer):
    """An entry as its client (through its link) and the salon's staff see it."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    services = serializers.ListField(child=serializers.IntegerField(), source="service_ids")
    staff = serializers.IntegerField(source="staff_id", allow_null=True)
    from_ = serializers.DateField(source="first_date")
    to = serializers.DateField(source="last_date")
    parts_of_day = serializers.ListField(child=serializers.CharField())
    joined_at = SalonDateTimeField()
    offers = serializers.SerializerMethodField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def get_offers(self, entry: Any) -> list[dict[str, Any]]:
        offers = sorted(entry.offers.all(), key=lambda o: (o.offered_at, o.pk), reverse=True)
        return list(WaitlistOfferSerializer(offers, many=True, context=self.context).data)


class WaitlistJoinedSerializer(WaitlistEntrySerializer):
    manage_token = serializers.SerializerMethodField()

    def get_manage_token(self, entry: Any) -> str:
        return waitlist_token(entry)


class WaitlistStaffEntrySerializer(WaitlistEntrySerializer):
    """The staff's view adds who waits, by which door, and her phone."""

    customer = serializers.SerializerMethodField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # `source` names an attribute of every field: declared here, not on the class.
        fields["source"] = serializers.ChoiceField(WaitlistSource.choices, read_only=True)
        return fields

    def get_customer(self, entry: Any) -> dict[str, Any]:
        customer = entry.customer
        return {"id": customer.pk, "name": customer.name, "phone": str(customer.phone or "")}


class OfferAcceptSerializer(serializers.Serializer):
    payment_option = serializers.ChoiceField(["deposit", "full"], default="deposit")
