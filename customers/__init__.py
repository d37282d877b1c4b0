"""The CRM: each client as a person (contact, consents, preferences, history), found by
phone or e-mail, proven by one-time codes (`identity`), exported and erased (`gdpr`). A
domain app: no HTTP."""
