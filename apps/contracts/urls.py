"""Contract pages. Notifications link to /contracts/<public_id>/ (the ``detail`` page)."""

from django.urls import path

from . import views

app_name = "contracts"

urlpatterns = [
    path("contracts/", views.contract_list, name="list"),
    path("contracts/assignments/", views.my_assignments, name="assignments"),
    path("contracts/<uuid:public_id>/", views.contract_detail, name="detail"),
    path("contracts/<uuid:public_id>/versions/<int:number>/", views.version_detail, name="version"),
    path("contracts/<uuid:public_id>/sign/", views.contract_sign, name="sign"),
    path("contracts/<uuid:public_id>/amend/", views.contract_amend, name="amend"),
    path("contracts/<uuid:public_id>/pause/", views.contract_pause, name="pause"),
    path("contracts/<uuid:public_id>/resume/", views.contract_resume, name="resume"),
    path("contracts/<uuid:public_id>/complete/", views.contract_complete, name="complete"),
    path("contracts/<uuid:public_id>/terminate/", views.contract_terminate, name="terminate"),
    path("contracts/<uuid:public_id>/nda/", views.contract_nda, name="nda"),
    path("contracts/<uuid:public_id>/assignments/", views.assignment_create, name="assign"),
    path(
        "contracts/<uuid:public_id>/assignments/<uuid:assignment_id>/end/",
        views.assignment_end,
        name="assignment_end",
    ),
    path(
        "contracts/<uuid:public_id>/assignments/<uuid:assignment_id>/resume/",
        views.assignment_resume,
        name="assignment_resume",
    ),
]
