"""Every tenant-owned table's policy is made again, reading its settings once per statement
(tenants/rls.py, `_VISIBLE`); PostgreSQL only. Going back keeps it: it shows and accepts
the same rows as the one before."""

from django.db import migrations

from tenants.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_row_level_security")]

    operations = [
        migrations.RunPython(enable_rls().code, migrations.RunPython.noop, elidable=False)
    ]
