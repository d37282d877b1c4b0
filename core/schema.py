"""Moving a model to another app without losing its rows.

The new app's migration declares the model (state only) and runs `table_move`, which
renames the old app's table (its rows, indexes, constraints and row-level security go
with it) and moves the model's content type, so that the admin's history and permissions
follow; the old app's next migration then drops the model from its state only.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def table_move(app_label: str, model_name: str, *, old_app_label: str) -> migrations.RunPython:
    def rename(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, back: bool) -> None:
        model = apps.get_model(app_label, model_name)
        old_table = f"{old_app_label}_{model._meta.model_name}"
        new_table = model._meta.db_table
        schema_editor.alter_db_table(
            model, *((new_table, old_table) if back else (old_table, new_table))
        )
        content_type = apps.get_model("contenttypes", "ContentType")
        content_type.objects.using(schema_editor.connection.alias).filter(
            app_label=app_label if back else old_app_label, model=model._meta.model_name
        ).update(app_label=old_app_label if back else app_label)

    return migrations.RunPython(
        lambda apps, schema_editor: rename(apps, schema_editor, back=False),
        lambda apps, schema_editor: rename(apps, schema_editor, back=True),
        elidable=False,
    )
