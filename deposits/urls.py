from django.urls import path

from . import api, api_manage, webhooks

salon = "salons/<slug:salon>"

urlpatterns = [
    path(f"{salon}/", api.SalonPublicView.as_view(), name="salon-public"),
    path(f"{salon}/services/", api.ServiceListView.as_view(), name="public-services"),
    path(f"{salon}/bookings/", api.BookingCreateView.as_view(), name="booking-create"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe-webhook"),
    path(
        "test-mode/payments/<str:intent_id>/pay/",
        webhooks.TestModePay.as_view(),
        name="test-mode-pay",
    ),
    path("manage/<str:token>/", api_manage.ManageBookingView.as_view(), name="manage"),
    path("manage/<str:token>/cancel/", api_manage.ManageCancelView.as_view(), name="manage-cancel"),
    path(
        "manage/<str:token>/reschedule/",
        api_manage.ManageRescheduleView.as_view(),
        name="manage-reschedule",
    ),
    path(
        f"{salon}/backoffice/bookings/<int:pk>/cancel/",
        api_manage.BookingCancelView.as_view(),
        name="bo-booking-cancel",
    ),
    path(
        f"{salon}/backoffice/deposit-policy/",
        api.DepositPolicyView.as_view(),
        name="deposit-policy",
    ),
    path(
        f"{salon}/backoffice/deposit-policy/quote/", api.QuoteView.as_view(), name="deposit-quote"
    ),
]
