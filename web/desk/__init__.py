"""The front desk's pages under /desk/: the day's calendar, phone bookings, a booking's
actions, the requests log."""
