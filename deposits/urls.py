from django.urls import path

from . import api

salon = "salons/<slug:salon>"

urlpatterns = [
    path(f"{salon}/", api.SalonPublicView.as_view(), name="salon-public"),
    path(f"{salon}/services/", api.ServiceListView.as_view(), name="public-services"),
    path(f"{salon}/backoffice/deposit-policy/", api.DepositPolicyView.as_view(),
         name="deposit-policy"),
    path(f"{salon}/backoffice/deposit-policy/quote/", api.QuoteView.as_view(),
         name="deposit-quote"),
]  # fmt: skip
