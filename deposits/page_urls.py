"""The client's pages. Included last: `<salon>/` takes any top path left over, and
`tenants.models.RESERVED_SLUGS` keeps salons off the product's own."""

from django.urls import path

from . import views

urlpatterns = [
    path("manage/<str:token>/", views.manage_page, name="manage-page"),
    path("manage/<str:token>/cancel/", views.manage_cancel, name="manage-cancel"),
    path("manage/<str:token>/reschedule/", views.manage_reschedule, name="manage-reschedule"),
    path("<slug:salon>/", views.salon_page, name="salon-page"),
    path("<slug:salon>/booking/<str:token>/", views.booking_done, name="booking-done"),
    path("<slug:salon>/booking/<str:token>/pay/", views.booking_pay, name="booking-pay"),
    path("<slug:salon>/booking/<str:token>/calendar.ics", views.booking_ics, name="booking-ics"),
]
