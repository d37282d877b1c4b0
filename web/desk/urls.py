"""The front desk's pages: /desk/login/, /desk/, and /desk/<salon>/..."""

from django.urls import include, path

from web.desk import auth, bookings, calendar, card, day, feeds, phone, requests, waitlist

app_name = "desk"

salon_patterns = [
    path("", calendar.calendar, name="calendar"),
    path("schedule/", day.day_view, name="schedule"),
    path("schedule/version/", day.day_version, name="schedule-version"),
    path("schedule/staff/<int:staff>/", day.staff_week, name="schedule-staff"),
    path("book/", phone.phone_booking, name="book"),
    path("book/slots/", phone.slots_json, name="slots"),
    path("customers/search/", phone.customer_search_json, name="customer-search"),
    path("customers/<int:pk>/card/", card.client_card_fragment, name="client-card"),
    path("bookings/<int:pk>/", bookings.booking_detail, name="booking"),
    path("bookings/<int:pk>/move/", day.booking_move_page, name="booking-move"),
    path("bookings/<int:pk>/<str:action>/", bookings.booking_action, name="booking-action"),
    path("requests/", requests.request_log, name="requests"),
    path("requests/<int:pk>/", requests.request_edit, name="request"),
    path("waitlist/", waitlist.waitlist_list, name="waitlist"),
    path("waitlist/add/", waitlist.waitlist_add, name="waitlist-add"),
    path("waitlist/<int:pk>/leave/", waitlist.waitlist_remove, name="waitlist-leave"),
    path("calendar-feeds/", feeds.feeds, name="feeds"),
    path("calendar-feeds/issue/", feeds.feed_issue, name="feed-issue"),
    path("calendar-feeds/revoke/", feeds.feed_revoke, name="feed-revoke"),
    path("calendar-feeds/<str:token>.ics", feeds.feed, name="feed"),
]

urlpatterns = [
    path("login/", auth.DeskLoginView.as_view(), name="login"),
    path("logout/", auth.DeskLogoutView.as_view(), name="logout"),
    path("", auth.home, name="home"),
    path("<slug:salon>/", include(salon_patterns)),
]
