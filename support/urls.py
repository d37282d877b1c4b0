from django.urls import path

from . import api_phone

backoffice = "salons/<slug:salon>/backoffice"

urlpatterns = [
    path(f"{backoffice}/phone-bookings/", api_phone.PhoneBookingView.as_view(),
         name="phone-booking"),
]  # fmt: skip
