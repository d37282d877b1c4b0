"""The outbox's `Message` moved to the messaging app, its table with it (messaging 0001)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0002_message_kind_identity_code"),
        ("messaging", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("Message")]),
    ]
