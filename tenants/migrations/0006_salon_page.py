# The salon's page: its kind, description, logo and cover photo.

import tenants.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0005_salon_max_gap'),
    ]

    operations = [
        migrations.AddField(
            model_name='salon',
            name='cover',
            field=models.ImageField(blank=True, help_text='Wide; shown up to 1600 pixels wide.', upload_to=tenants.models.salon_picture_path, verbose_name='cover photo'),
        ),
        migrations.AddField(
            model_name='salon',
            name='description',
            field=models.TextField(blank=True, help_text="A few sentences on the salon's page: what it does, its style.", max_length=2000, verbose_name='description'),
        ),
        migrations.AddField(
            model_name='salon',
            name='kind',
            field=models.CharField(choices=[('hair', 'Hair salon'), ('beauty', 'Beauty salon')], default='hair', max_length=8, verbose_name='kind'),
        ),
        migrations.AddField(
            model_name='salon',
            name='logo',
            field=models.ImageField(blank=True, help_text='Square; shown at 256 pixels.', upload_to=tenants.models.salon_picture_path, verbose_name='logo'),
        ),
    ]
