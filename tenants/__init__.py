"""The tenant: salons, their members and roles, the tenant scope every query runs in,
row-level security (`rls`) and the PostgreSQL backend that sets it (`db/`), and the admin
that stays within a member's salons. A domain app: no HTTP."""
