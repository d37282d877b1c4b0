"""Row-level security on every tenant-owned table (tenants/rls.py); PostgreSQL only."""

from django.db import migrations

from tenants.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0001_initial"),
        ("customers", "0003_by_name_index"),
        ("bookings", "0002_bookingevent_bookingevent_recent"),
        ("deposits", "0005_payment_note_payment_recorded_by_and_more"),
        ("support", "0001_initial"),
    ]

    # The tenant-owned tables of the models as they are when it runs; a model added later
    # covers its own table with `enable_rls("<table>")` in the migration that creates it.
    operations = [enable_rls()]
