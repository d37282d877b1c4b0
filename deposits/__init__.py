"""The money: the deposit policy and its calculator (`rules`), checkout (`checkout`:
book and pay), payments, refunds and credit (`payments`, `credit`), the payment gateway
(`gateway/`), and the deposits recovered. A domain app: no HTTP."""
