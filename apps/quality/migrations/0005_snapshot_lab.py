"""``ScoreSnapshot.lab``: the contract's lab, copied onto each snapshot (as ``supplier`` already is) so that
a party's score list is read newest first from one index of this table (``snap_lab_created_idx``,
``snap_supplier_created_idx``) rather than by joining every snapshot to its contract and filtering
``lab OR supplier`` (docs/api.md, "Performance").

Existing rows are backfilled from their contract. On PostgreSQL the append-only trigger refuses UPDATE, so
it is disabled for the backfill only (in this migration's transaction). The writer
(``apps/quality/services.py``) sets the column on every new snapshot."""

import django.db.models.deletion
from django.db import migrations, models

def backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Deferred foreign-key checks of the updated rows would block the ALTER TABLE below.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("ALTER TABLE quality_scoresnapshot DISABLE TRIGGER quality_scoresnapshot_append_only")
        schema_editor.execute(
            "UPDATE quality_scoresnapshot s SET lab_id = c.lab_id FROM contracts_contract c WHERE c.id = s.contract_id"
        )
        schema_editor.execute("ALTER TABLE quality_scoresnapshot ENABLE TRIGGER quality_scoresnapshot_append_only")
    else:
        schema_editor.execute(
            "UPDATE quality_scoresnapshot SET lab_id = "
            "(SELECT lab_id FROM contracts_contract WHERE contracts_contract.id = quality_scoresnapshot.contract_id)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_key_scopes"),
        ("contracts", "0001_initial"),
        ("quality", "0004_alpha_interval"),
    ]

    operations = [
        migrations.AddField(
            model_name="scoresnapshot",
            name="lab",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organization",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="scoresnapshot",
            name="lab",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organization",
            ),
        ),
        migrations.AddIndex(
            model_name="scoresnapshot",
            index=models.Index(fields=["lab", "created_at", "id"], name="snap_lab_created_idx"),
        ),
        migrations.AddIndex(
            model_name="scoresnapshot",
            index=models.Index(fields=["supplier", "created_at", "id"], name="snap_supplier_created_idx"),
        ),
    ]
