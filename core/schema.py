"""Moving a model to another app without losing its rows.

A model that changes app keeps its table: the new app's first migration declares the
model (state only) then runs `table_adopt`, which renames the old app's table when a
database has it (its rows, indexes, constraints and row-level security go with it, and
its content type follows, so the admin's history and permissions stay) and creates the
table on a new database.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def table_adopt(app_label: str, model_name: str, *, old_app_label: str) -> migrations.RunPython:
    def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        model = apps.get_model(app_label, model_name)
        old_table = f"{old_app_label}_{model._meta.model_name}"
        if old_table in schema_editor.connection.introspection.table_names():
            schema_editor.alter_db_table(model, old_table, model._meta.db_table)
            content_type = apps.get_model("contenttypes", "ContentType")
            content_type.objects.using(schema_editor.connection.alias).filter(
                app_label=old_app_label, model=model._meta.model_name
            ).update(app_label=app_label)
        else:
            schema_editor.create_model(model)

    def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        schema_editor.delete_model(apps.get_model(app_label, model_name))

    return migrations.RunPython(forward, backward, elidable=False)
