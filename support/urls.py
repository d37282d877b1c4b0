from django.urls import path

from . import api, api_identity, api_phone

backoffice = "salons/<slug:salon>/backoffice"

urlpatterns = [
    path(
        f"{backoffice}/phone-bookings/", api_phone.PhoneBookingView.as_view(), name="phone-booking"
    ),
    path(f"{backoffice}/requests/", api.RequestListView.as_view(), name="request-list"),
    path(f"{backoffice}/requests/stats/", api.RequestStatsView.as_view(), name="request-stats"),
    path(
        f"{backoffice}/requests/<int:pk>/", api.RequestDetailView.as_view(), name="request-detail"
    ),
    path(
        "salons/<slug:salon>/identity/code/",
        api_identity.IdentityCodeView.as_view(),
        name="identity-code",
    ),
    path(
        "salons/<slug:salon>/identity/verify/",
        api_identity.IdentityVerifyView.as_view(),
        name="identity-verify",
    ),
    path(
        "manage/<str:token>/verify/", api_identity.ManageVerifyView.as_view(), name="manage-verify"
    ),
    path(
        "manage/<str:token>/verify/confirm/",
        api_identity.ManageVerifyConfirmView.as_view(),
        name="manage-verify-confirm",
    ),
]
