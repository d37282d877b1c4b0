"""The staff API under /api/v1/salons/{salon}/backoffice/: the salon's settings and team,
the catalogue and bookings, phone bookings, the deposit policy, clients and requests."""
