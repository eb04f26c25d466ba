from django.urls import path

from . import views

_B = "batches/<uuid:batch_id>/"

urlpatterns = [
    path("projects/<uuid:project_id>/gold/", views.GoldRoute.as_view(), name="project-gold"),
    path("contracts/<uuid:contract_id>/batches/", views.BatchRoute.as_view(), name="contract-batches"),
    path(_B, views.BatchDetailView.as_view(), name="batch-detail"),
    path(f"{_B}accept/", views.BatchAcceptView.as_view(), name="batch-accept"),
    path(f"{_B}partially-accept/", views.BatchPartialAcceptView.as_view(), name="batch-partially-accept"),
    path(f"{_B}reject/", views.BatchRejectView.as_view(), name="batch-reject"),
    path(f"{_B}appeal/", views.BatchAppealView.as_view(), name="batch-appeal"),
    path(f"{_B}judgments/", views.JudgmentListView.as_view(), name="batch-judgments"),
    path(f"{_B}datasheet/", views.DatasheetView.as_view(), name="batch-datasheet"),
    path("appeals/", views.AppealListView.as_view(), name="appeal-list"),
    path("appeals/<uuid:appeal_id>/decide/", views.AppealDecideView.as_view(), name="appeal-decide"),
]
