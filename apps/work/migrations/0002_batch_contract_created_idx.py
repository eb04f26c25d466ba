from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("work", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="workbatch",
            index=models.Index(fields=["contract", "created_at", "id"], name="batch_contract_created_idx"),
        ),
    ]
