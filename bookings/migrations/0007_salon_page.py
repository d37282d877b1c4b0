# The salon's page: service categories (row-level security, as every tenant table), staff
# photos and bios.

import django.db.models.deletion
import tenants.models
from django.db import migrations, models

from tenants.rls import enable_rls


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0006_busytime_indexes'),
        ('tenants', '0006_salon_page'),
    ]

    operations = [
        migrations.AddField(
            model_name='staffmember',
            name='bio',
            field=models.CharField(blank=True, help_text="One or two sentences on the salon's page.", max_length=300, verbose_name='short bio'),
        ),
        migrations.AddField(
            model_name='staffmember',
            name='photo',
            field=models.ImageField(blank=True, help_text='Shown at 400 pixels, cropped square.', upload_to=tenants.models.salon_picture_path, verbose_name='photo'),
        ),
        migrations.CreateModel(
            name='ServiceCategory',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80, verbose_name='name')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='position')),
                ('salon', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.salon')),
            ],
            options={
                'verbose_name': 'service category',
                'verbose_name_plural': 'service categories',
                'ordering': ['position', 'name', 'id'],
            },
        ),
        migrations.AddField(
            model_name='service',
            name='category',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='bookings.servicecategory', verbose_name='category'),
        ),
        migrations.AddConstraint(
            model_name='servicecategory',
            constraint=models.UniqueConstraint(fields=('salon', 'name'), name='servicecategory_unique_name'),
        ),
        enable_rls("bookings_servicecategory"),
    ]
