from django.urls import path

from . import api

backoffice = "salons/<slug:salon>/backoffice"

urlpatterns = [
    path("auth/token/", api.TokenObtainView.as_view(), name="auth-token"),
    path(f"{backoffice}/settings/", api.SalonSettingsView.as_view(), name="salon-settings"),
    path(f"{backoffice}/members/", api.MemberListView.as_view(), name="member-list"),
    path(f"{backoffice}/members/<int:pk>/", api.MemberDetailView.as_view(), name="member-detail"),
]
