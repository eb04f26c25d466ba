"""Quality pages, mounted at the site root."""

from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    # A contract's quality (lab, supplier, operations), its recompute button and progress fragment
    path("contracts/<uuid:public_id>/quality/", views.contract_quality, name="contract"),
    path("contracts/<uuid:public_id>/quality/recompute/", views.recompute, name="recompute"),
    path("contracts/<uuid:public_id>/quality/run/", views.run_status, name="run_status"),
    # A project's league table of suppliers on the lab's gold
    path("projects/<uuid:public_id>/vendor-benchmark/", views.vendor_benchmark, name="vendor_benchmark"),
    # A vendor's team, an expert's own scores, the bias audits
    path("quality/team/", views.team_quality, name="team"),
    path("quality/me/", views.my_quality, name="me"),
    path("quality/audits/", views.audits, name="audits"),
]
