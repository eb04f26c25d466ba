from django.urls import path

from . import views

_C = "contracts/<uuid:contract_id>/"

urlpatterns = [
    path("contracts/", views.ContractListView.as_view(), name="contract-list"),
    path(_C, views.ContractDetailView.as_view(), name="contract-detail"),
    path(f"{_C}sign/", views.ContractSignView.as_view(), name="contract-sign"),
    path(f"{_C}pause/", views.ContractPauseView.as_view(), name="contract-pause"),
    path(f"{_C}resume/", views.ContractResumeView.as_view(), name="contract-resume"),
    path(f"{_C}complete/", views.ContractCompleteView.as_view(), name="contract-complete"),
    path(f"{_C}terminate/", views.ContractTerminateView.as_view(), name="contract-terminate"),
    path(f"{_C}versions/", views.VersionListView.as_view(), name="contract-versions"),
    path(f"{_C}versions/<uuid:version_id>/", views.VersionDetailView.as_view(), name="contract-version"),
    path(f"{_C}amendments/", views.AmendmentRoute.as_view(), name="contract-amendments"),
    path(f"{_C}milestones/", views.MilestonesView.as_view(), name="contract-milestones"),
    path(f"{_C}nda/accept/", views.NdaAcceptView.as_view(), name="contract-nda-accept"),
    path(f"{_C}gates/", views.GateCheckView.as_view(), name="contract-gates"),
    path(f"{_C}assignments/", views.AssignmentRoute.as_view(), name="contract-assignments"),
    path(
        f"{_C}assignments/<uuid:assignment_id>/end/", views.AssignmentEndView.as_view(), name="contract-assignment-end"
    ),
    path(
        f"{_C}assignments/<uuid:assignment_id>/resume/",
        views.AssignmentResumeView.as_view(),
        name="contract-assignment-resume",
    ),
]
