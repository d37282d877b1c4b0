# Where a booking came from: the booking page reached directly, the widget on the salon's
# site, Google's, Instagram's or Facebook's link, the API, or staff (phone). Bookings
# made online before are the booking page's (the API's were not told apart).

from django.db import migrations, models


def _set_source(old: str, new: str):
    def run(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            if schema_editor.connection.vendor == "postgresql":
                # The migration sees every salon's rows (row-level security, tenants/rls.py).
                cursor.execute("SELECT set_config('acompte.all_salons', 'on', true)")
            cursor.execute(
                "UPDATE bookings_booking SET source = %s WHERE source = %s", [new, old]
            )

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0007_salon_page'),
    ]

    operations = [
        migrations.AlterField(
            model_name='booking',
            name='source',
            field=models.CharField(choices=[('web', 'Booking page'), ('widget', "Widget on the salon's site"), ('google', 'Google'), ('instagram', 'Instagram'), ('facebook', 'Facebook'), ('api', 'API'), ('phone', 'Phone or desk')], default='web', max_length=16),
        ),
        migrations.RunPython(
            _set_source("online", "web"), _set_source("web", "online"), elidable=False
        ),
    ]
