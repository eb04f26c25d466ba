"""Project pages without bids. The project detail pages are in ``apps.bidding.urls``."""

from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    # Labs
    path("projects/", views.project_list, name="list"),
    path("projects/new/", views.project_create, name="create"),
    path("projects/<uuid:public_id>/edit/", views.project_edit, name="edit"),
    # Suppliers (vendor experts too, for the guidelines)
    path("marketplace/", views.marketplace, name="marketplace"),
    path(
        "marketplace/guidelines/<uuid:public_id>/acknowledge/",
        views.guideline_acknowledge,
        name="guideline_acknowledge",
    ),
]
