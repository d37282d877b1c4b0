"""The pages: the product's home, a salon's booking page, paying (one pay page for the
online checkout and a phone booking's link), managing a booking, proving who one is,
leaving the messages. What a service refused becomes a form error or the page's problem
in one place (`problems`)."""
