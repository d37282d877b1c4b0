"""The staff API under /api/v1/ (API.md, "Staff"): signing in, the salon's settings and
team, the catalogue and bookings, phone bookings, the deposit policy, clients, requests."""

from django.urls import path

from web.backoffice import (
    catalogue,
    customers,
    deposits,
    fees,
    phone,
    requests,
    waitlist,
)
from web.backoffice import (
    salon as salon_settings,
)

backoffice = "salons/<slug:salon>/backoffice"

api_patterns = [
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
    path(
        f"{backoffice}/resource-kinds/",
        catalogue.ResourceKindListView.as_view(),
        name="bo-resource-kinds",
    ),
    path(f"{backoffice}/resources/", catalogue.ResourceListView.as_view(), name="bo-resources"),
    path(
        f"{backoffice}/resources/<int:pk>/",
        catalogue.ResourceDetailView.as_view(),
        name="bo-resource",
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
    path(
        f"{backoffice}/bookings/<int:pk>/settle-owed/",
        deposits.SettleOwedView.as_view(),
        name="bo-booking-settle-owed",
    ),
    path(
        f"{backoffice}/bookings/<int:pk>/charge-fee/",
        fees.ChargeFeeView.as_view(),
        name="bo-booking-charge-fee",
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
    path(f"{backoffice}/waitlist/", waitlist.WaitlistStaffView.as_view(), name="bo-waitlist"),
    path(
        f"{backoffice}/requests/stats/", requests.RequestStatsView.as_view(), name="request-stats"
    ),
    path(
        f"{backoffice}/requests/<int:pk>/",
        requests.RequestDetailView.as_view(),
        name="request-detail",
    ),
]
