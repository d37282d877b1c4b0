"""The HTTP API (API.md), mounted under /api/v1/: the client's side (a salon, its
services, staff and times, booking and paying, the manage link, proving who one is), the
payment provider's webhook, and the salon's back office."""

from django.urls import path

from web.api import booking, identity, manage, public, webhooks
from web.api.backoffice import (
    catalogue,
    customers,
    deposits,
    phone,
    requests,
)
from web.api.backoffice import (
    salon as salon_settings,
)

salon = "salons/<slug:salon>"
backoffice = f"{salon}/backoffice"

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
    path(
        "test-mode/payments/<str:intent_id>/pay/",
        webhooks.TestModePay.as_view(),
        name="test-mode-pay",
    ),
]

backoffice_patterns = [
    path("auth/token/", salon_settings.TokenObtainView.as_view(), name="auth-token"),
    path(
        f"{backoffice}/settings/",
        salon_settings.SalonSettingsView.as_view(),
        name="salon-settings",
    ),
    path(f"{backoffice}/members/", salon_settings.MemberListView.as_view(), name="member-list"),
    path(
        f"{backoffice}/members/<int:pk>/",
        salon_settings.MemberDetailView.as_view(),
        name="member-detail",
    ),
    path(f"{backoffice}/services/", catalogue.ServiceListView.as_view(), name="bo-services"),
    path(
        f"{backoffice}/services/<int:pk>/", catalogue.ServiceDetailView.as_view(), name="bo-service"
    ),
    path(f"{backoffice}/staff/", catalogue.StaffListView.as_view(), name="bo-staff-list"),
    path(f"{backoffice}/staff/<int:pk>/", catalogue.StaffDetailView.as_view(), name="bo-staff"),
    path(
        f"{backoffice}/staff/<int:pk>/hours/",
        catalogue.StaffHoursView.as_view(),
        name="bo-staff-hours",
    ),
    path(f"{backoffice}/time-off/", catalogue.TimeOffListView.as_view(), name="bo-time-off"),
    path(
        f"{backoffice}/time-off/<int:pk>/",
        catalogue.TimeOffDetailView.as_view(),
        name="bo-time-off-detail",
    ),
    path(f"{backoffice}/bookings/", catalogue.BookingListView.as_view(), name="bo-bookings"),
    path(
        f"{backoffice}/bookings/<int:pk>/", catalogue.BookingDetailView.as_view(), name="bo-booking"
    ),
    path(
        f"{backoffice}/bookings/<int:pk>/no-show/",
        catalogue.BookingNoShowView.as_view(),
        name="bo-booking-no-show",
    ),
    path(
        f"{backoffice}/bookings/<int:pk>/complete/",
        catalogue.BookingCompleteView.as_view(),
        name="bo-booking-complete",
    ),
    path(
        f"{backoffice}/bookings/<int:pk>/cancel/",
        catalogue.BookingCancelView.as_view(),
        name="bo-booking-cancel",
    ),
    path(f"{backoffice}/phone-bookings/", phone.PhoneBookingView.as_view(), name="phone-booking"),
    path(
        f"{backoffice}/deposit-policy/",
        deposits.DepositPolicyView.as_view(),
        name="deposit-policy",
    ),
    path(
        f"{backoffice}/deposit-policy/quote/",
        deposits.QuoteView.as_view(),
        name="deposit-quote",
    ),
    path(f"{backoffice}/customers/", customers.CustomerListView.as_view(), name="customer-list"),
    path(
        f"{backoffice}/customers/<int:pk>/",
        customers.CustomerDetailView.as_view(),
        name="customer-detail",
    ),
    path(
        f"{backoffice}/customers/<int:pk>/export/",
        customers.CustomerExportView.as_view(),
        name="customer-export",
    ),
    path(
        f"{backoffice}/customers/<int:pk>/erase/",
        customers.CustomerEraseView.as_view(),
        name="customer-erase",
    ),
    path(
        f"{backoffice}/customers/<int:pk>/merge/",
        customers.CustomerMergeView.as_view(),
        name="customer-merge",
    ),
    path(
        f"{backoffice}/customers/<int:pk>/consents/",
        customers.CustomerConsentsView.as_view(),
        name="customer-consents",
    ),
    path(f"{backoffice}/requests/", requests.RequestListView.as_view(), name="request-list"),
    path(
        f"{backoffice}/requests/stats/", requests.RequestStatsView.as_view(), name="request-stats"
    ),
    path(
        f"{backoffice}/requests/<int:pk>/",
        requests.RequestDetailView.as_view(),
        name="request-detail",
    ),
]

urlpatterns = client_patterns + provider_patterns + backoffice_patterns
