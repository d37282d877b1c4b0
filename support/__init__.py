"""The front desk's domain: what clients asked or reported to the salon, by any channel,
when it was first answered and how it was resolved (the requests log, seed 003), and the
phone bookings the desk takes for clients who are not online. A domain app: no HTTP."""
