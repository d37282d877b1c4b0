"""The client's door: the public API under /api/v1/ (a salon, its services, staff and
times, booking and paying, the manage link, proving who one is), the payment provider's
webhook, and the pages (`page_urls`)."""

from django.urls import path

from web.public import webhooks
from web.public.api import booking, identity, manage, waitlist
from web.public.api import salon as public

salon = "salons/<slug:salon>"

client_patterns = [
    path(f"{salon}/", booking.SalonPublicView.as_view(), name="salon-public"),
    path(f"{salon}/services/", booking.ServiceListView.as_view(), name="public-services"),
    path(f"{salon}/staff/", public.StaffListView.as_view(), name="public-staff"),
    path(f"{salon}/availability/", public.AvailabilityView.as_view(), name="availability"),
    path(f"{salon}/bookings/", booking.BookingCreateView.as_view(), name="booking-create"),
    path(f"{salon}/identity/code/", identity.IdentityCodeView.as_view(), name="identity-code"),
    path(
        f"{salon}/identity/verify/",
        identity.IdentityVerifyView.as_view(),
        name="identity-verify",
    ),
    path(f"{salon}/waitlist/", waitlist.WaitlistJoinView.as_view(), name="waitlist-join"),
    path(
        "waitlist/offers/<str:token>/accept/",
        waitlist.OfferAcceptView.as_view(),
        name="waitlist-offer-accept",
    ),
    path("waitlist/<str:token>/", waitlist.WaitlistEntryView.as_view(), name="waitlist-entry"),
    path("manage/<str:token>/", manage.ManageBookingView.as_view(), name="manage"),
    path("manage/<str:token>/cancel/", manage.ManageCancelView.as_view(), name="manage-cancel-api"),
    path(
        "manage/<str:token>/reschedule/",
        manage.ManageRescheduleView.as_view(),
        name="manage-reschedule-api",
    ),
    path("manage/<str:token>/verify/", identity.ManageVerifyView.as_view(), name="manage-verify"),
    path(
        "manage/<str:token>/verify/confirm/",
        identity.ManageVerifyConfirmView.as_view(),
        name="manage-verify-confirm",
    ),
]

provider_patterns = [
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe-webhook"),
    path("sms/inbound/", webhooks.sms_inbound, name="sms-inbound"),
    path(
        "test-mode/payments/<str:intent_id>/pay/",
        webhooks.TestModePay.as_view(),
        name="test-mode-pay",
    ),
]

api_patterns = client_patterns + provider_patterns
