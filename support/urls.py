from django.urls import path

from . import api, api_phone

backoffice = "salons/<slug:salon>/backoffice"

urlpatterns = [
    path(f"{backoffice}/phone-bookings/", api_phone.PhoneBookingView.as_view(),
         name="phone-booking"),
    path(f"{backoffice}/requests/", api.RequestListView.as_view(), name="request-list"),
    path(f"{backoffice}/requests/stats/", api.RequestStatsView.as_view(), name="request-stats"),
    path(f"{backoffice}/requests/<int:pk>/", api.RequestDetailView.as_view(),
         name="request-detail"),
]  # fmt: skip
