"""The pages: the product's home, and the client's (a salon's booking page, paying,
managing a booking, proving who one is, leaving the messages). `<salon>/` takes any top
path left over, so these come last in the project's URLs."""

from django.urls import path

from web.public import (
    booking,
    consent,
    embed,
    home,
    salon_page,
    space,
    terms_page,
    verify,
    waitlist,
    waitlist_pages,
)
from web.public.embed import embeddable

# The one pay page, at both its addresses (the online checkout's and a phone link's).
pay_page = embeddable(booking.pay_page)

urlpatterns = [
    path("healthz", home.healthz, name="healthz"),
    path("robots.txt", embed.robots_txt, name="robots"),
    path("favicon.ico", embed.favicon, name="favicon"),
    path("", home.home, name="home"),
    # A phone booking's payment link: no salon in its address, so this site only frames it.
    path("pay/<str:token>/", pay_page, name="pay"),
    # A fee the card on file did not pay, paid by the client herself.
    path("pay/fee/<str:token>/", embeddable(booking.fee_pay_page), name="pay-fee"),
    path("manage/<str:token>/", booking.manage_page, name="manage-page"),
    path("manage/<str:token>/cancel/", booking.manage_cancel, name="manage-cancel"),
    path("manage/<str:token>/reschedule/", booking.manage_reschedule, name="manage-reschedule"),
    path("manage/<str:token>/verify/", verify.manage_verify, name="manage-verify-page"),
    path("<slug:salon>/", salon_page.salon_home, name="salon-page"),
    # What the widget's frame shows (web/public/embed.py): framed by the salon's sites only.
    path("<slug:salon>/book/", embeddable(booking.salon_page), name="book"),
    path("<slug:salon>/terms/", terms_page.salon_terms, name="salon-terms"),
    path("<slug:salon>/verify/", embeddable(verify.salon_verify), name="salon-verify"),
    path("<slug:salon>/widget.js", embed.widget_js, name="widget"),
    path("<slug:salon>/me/", space.client_space, name="client-space"),
    path("<slug:salon>/me/consents/", space.client_space_consents, name="client-space-consents"),
    path("<slug:salon>/me/sign-out/", space.client_space_sign_out, name="client-space-sign-out"),
    path(
        "<slug:salon>/booking/<str:token>/",
        embeddable(booking.booking_done),
        name="booking-done",
    ),
    path(
        "<slug:salon>/booking/<str:token>/pay/",
        pay_page,
        name="booking-pay",
    ),
    path("<slug:salon>/booking/<str:token>/calendar.ics", booking.booking_ics, name="booking-ics"),
    path(
        "<slug:salon>/waitlist/offers/<str:token>/",
        waitlist.offer_page,
        name="waitlist-offer",
    ),
    path(
        "<slug:salon>/waitlist/<str:token>/",
        waitlist_pages.waitlist_entry,
        name="waitlist-page",
    ),
    path(
        "<slug:salon>/waitlist/<str:token>/joined/",
        embeddable(waitlist_pages.waitlist_joined),
        name="waitlist-joined",
    ),
    path(
        "<slug:salon>/waitlist/<str:token>/leave/",
        waitlist_pages.waitlist_entry_leave,
        name="waitlist-leave",
    ),
    path(
        "<slug:salon>/unsubscribe/<str:token>/",
        consent.consent_withdraw,
        name="consent-withdraw",
    ),
]
