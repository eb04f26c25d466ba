"""Work pages. Notifications link to /work/batches/<public_id>/ (the ``batch_detail`` page)."""

from django.urls import path

from . import views

app_name = "work"

urlpatterns = [
    # The parties: a contract's batches, the supplier's upload
    path("contracts/<uuid:public_id>/batches/", views.contract_batches, name="contract_batches"),
    path("contracts/<uuid:public_id>/batches/upload/", views.batch_upload, name="batch_upload"),
    # The batch page, its review, appeal and datasheet
    path("work/batches/<uuid:public_id>/", views.batch_detail, name="batch_detail"),
    path("work/batches/<uuid:public_id>/review/", views.batch_review, name="batch_review"),
    path("work/batches/<uuid:public_id>/appeal/", views.batch_appeal, name="batch_appeal"),
    path("work/batches/<uuid:public_id>/datasheet.json", views.datasheet_json, name="datasheet_json"),
    path("work/batches/<uuid:public_id>/datasheet.csv", views.datasheet_csv, name="datasheet_csv"),
    path(
        "work/batches/<uuid:public_id>/datasheet-summary.csv",
        views.datasheet_summary_csv,
        name="datasheet_summary_csv",
    ),
    # Labs: gold items
    path("projects/<uuid:public_id>/gold/", views.project_gold, name="gold"),
    # Platform operations: appeals
    path("operations/appeals/", views.appeal_queue, name="appeals"),
    path("operations/appeals/<uuid:public_id>/decide/", views.appeal_decide, name="appeal_decide"),
]
