from django.urls import path

from . import api, webhooks

salon = "salons/<slug:salon>"

urlpatterns = [
    path(f"{salon}/", api.SalonPublicView.as_view(), name="salon-public"),
    path(f"{salon}/services/", api.ServiceListView.as_view(), name="public-services"),
    path(f"{salon}/bookings/", api.BookingCreateView.as_view(), name="booking-create"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe-webhook"),
    path(f"{salon}/backoffice/deposit-policy/", api.DepositPolicyView.as_view(),
         name="deposit-policy"),
    path(f"{salon}/backoffice/deposit-policy/quote/", api.QuoteView.as_view(),
         name="deposit-quote"),
]  # fmt: skip
