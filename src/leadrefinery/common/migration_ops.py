"""Operations the project's migrations share."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def without_index(
    app_label: str, model_name: str, name: str, field: Any
) -> migrations.SeparateDatabaseAndState:
    """``AlterField`` of ``name`` to ``field`` (a foreign key now with ``db_index=False``),
    done in the database as one ``DROP INDEX`` of the key's own index. Django's
    ``AlterField`` would copy the whole table on SQLite to drop an index (a lead table of a
    million rows, and its timeline of several millions)."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[_index_of(app_label, model_name, name)],
    )


def _index_of(app_label: str, model_name: str, field_name: str) -> migrations.RunPython:
    def located(apps: Any, schema_editor: Any) -> tuple[Any, Any, str]:
        model = apps.get_model(app_label, model_name)
        column = model._meta.get_field(field_name)
        # The name Django gave the key's index when it created the column, on both databases.
        name = schema_editor._create_index_name(model._meta.db_table, [column.column])
        return model, column, name

    def drop(apps: Any, schema_editor: Any) -> None:
        _, _, name = located(apps, schema_editor)
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def create(apps: Any, schema_editor: Any) -> None:
        model, column, name = located(apps, schema_editor)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[column], name=name))

    return migrations.RunPython(drop, create, elidable=False)


__all__ = ["without_index"]
