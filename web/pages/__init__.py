"""The pages: the product's home, a salon's booking page, paying, managing a booking,
proving who one is, leaving the messages."""
