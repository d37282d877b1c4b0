"""The client's messages: the outbox (`outbox/`: planned from what happened, each sent
once), e-mail and SMS (`sms`), and the one-time codes sent to prove who one is
(`identity`). A domain app: no HTTP."""
