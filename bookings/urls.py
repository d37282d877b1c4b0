from django.urls import path

from .api import backoffice, public

salon = "salons/<slug:salon>"
backoffice_ = f"{salon}/backoffice"

urlpatterns = [
    path(f"{salon}/staff/", public.StaffListView.as_view(), name="public-staff"),
    path(f"{salon}/availability/", public.AvailabilityView.as_view(), name="availability"),
    path(f"{backoffice_}/services/", backoffice.ServiceListView.as_view(), name="bo-services"),
    path(
        f"{backoffice_}/services/<int:pk>/",
        backoffice.ServiceDetailView.as_view(),
        name="bo-service",
    ),
    path(f"{backoffice_}/staff/", backoffice.StaffListView.as_view(), name="bo-staff-list"),
    path(f"{backoffice_}/staff/<int:pk>/", backoffice.StaffDetailView.as_view(), name="bo-staff"),
    path(
        f"{backoffice_}/staff/<int:pk>/hours/",
        backoffice.StaffHoursView.as_view(),
        name="bo-staff-hours",
    ),
    path(f"{backoffice_}/time-off/", backoffice.TimeOffListView.as_view(), name="bo-time-off"),
    path(
        f"{backoffice_}/time-off/<int:pk>/",
        backoffice.TimeOffDetailView.as_view(),
        name="bo-time-off-detail",
    ),
    path(f"{backoffice_}/bookings/", backoffice.BookingListView.as_view(), name="bo-bookings"),
    path(
        f"{backoffice_}/bookings/<int:pk>/",
        backoffice.BookingDetailView.as_view(),
        name="bo-booking",
    ),
    path(
        f"{backoffice_}/bookings/<int:pk>/no-show/",
        backoffice.BookingNoShowView.as_view(),
        name="bo-booking-no-show",
    ),
    path(
        f"{backoffice_}/bookings/<int:pk>/complete/",
        backoffice.BookingCompleteView.as_view(),
        name="bo-booking-complete",
    ),
]
