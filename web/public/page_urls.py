"""The pages: the product's home, and the client's (a salon's booking page, paying,
managing a booking, proving who one is, leaving the messages). `<salon>/` takes any top
path left over, so these come last in the project's URLs."""

from django.urls import path

from web.public import booking, consent, home, salon_page, space, verify

urlpatterns = [
    path("healthz", home.healthz, name="healthz"),
    path("", home.home, name="home"),
    path("pay/<str:token>/", booking.pay_page, name="pay"),
    path("manage/<str:token>/", booking.manage_page, name="manage-page"),
    path("manage/<str:token>/cancel/", booking.manage_cancel, name="manage-cancel"),
    path("manage/<str:token>/reschedule/", booking.manage_reschedule, name="manage-reschedule"),
    path("manage/<str:token>/verify/", verify.manage_verify, name="manage-verify-page"),
    path("<slug:salon>/", salon_page.salon_home, name="salon-page"),
    path("<slug:salon>/book/", booking.salon_page, name="book"),
    path("<slug:salon>/verify/", verify.salon_verify, name="salon-verify"),
    path("<slug:salon>/me/", space.client_space, name="client-space"),
    path("<slug:salon>/me/consents/", space.client_space_consents, name="client-space-consents"),
    path("<slug:salon>/me/sign-out/", space.client_space_sign_out, name="client-space-sign-out"),
    path("<slug:salon>/booking/<str:token>/", booking.booking_done, name="booking-done"),
    path("<slug:salon>/booking/<str:token>/pay/", booking.pay_page, name="booking-pay"),
    path("<slug:salon>/booking/<str:token>/calendar.ics", booking.booking_ics, name="booking-ics"),
    path(
        "<slug:salon>/unsubscribe/<str:token>/",
        consent.consent_withdraw,
        name="consent-withdraw",
    ),
]
