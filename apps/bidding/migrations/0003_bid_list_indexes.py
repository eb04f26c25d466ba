from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bidding", "0002_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="bid",
            index=models.Index(fields=["bidder", "created_at", "id"], name="bid_bidder_created_idx"),
        ),
        migrations.AddIndex(
            model_name="bid",
            index=models.Index(fields=["project", "created_at", "id"], name="bid_project_created_idx"),
        ),
    ]
