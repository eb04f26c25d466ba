from django.urls import path

from . import views

_T = "tests/<uuid:test_id>/"
_A = "attempts/<uuid:attempt_id>/"

urlpatterns = [
    path("tests/", views.TestRoute.as_view(), name="test-list"),
    path(_T, views.TestDetailView.as_view(), name="test-detail"),
    path(f"{_T}items/", views.ItemRoute.as_view(), name="test-items"),
    path(f"{_T}publish/", views.TestPublishView.as_view(), name="test-publish"),
    path(f"{_T}retire/", views.TestRetireView.as_view(), name="test-retire"),
    path(f"{_T}new-version/", views.TestNewVersionView.as_view(), name="test-new-version"),
    path(f"{_T}attempts/", views.AttemptStartView.as_view(), name="test-attempts"),
    path("attempts/", views.AttemptListView.as_view(), name="attempt-list"),
    path(_A, views.AttemptDetailView.as_view(), name="attempt-detail"),
    path(f"{_A}answers/", views.AttemptAnswerView.as_view(), name="attempt-answers"),
    path(f"{_A}submit/", views.AttemptSubmitView.as_view(), name="attempt-submit"),
    path("grading/", views.GradingQueueView.as_view(), name="grading-queue"),
    path("grading/<uuid:task_id>/score/", views.GradingScoreView.as_view(), name="grading-score"),
    path("qualifications/", views.QualificationListView.as_view(), name="qualification-list"),
    path(
        "qualifications/<uuid:qualification_id>/revoke/",
        views.QualificationRevokeView.as_view(),
        name="qualification-revoke",
    ),
    path("calibration-rounds/", views.CalibrationRoundRoute.as_view(), name="calibration-round-list"),
    path(
        "calibration-rounds/<uuid:round_id>/report/",
        views.CalibrationReportView.as_view(),
        name="calibration-round-report",
    ),
    path(
        "calibration-rounds/<uuid:round_id>/close/",
        views.CalibrationRoundCloseView.as_view(),
        name="calibration-round-close",
    ),
    path("projects/<uuid:project_id>/qualification-test/", views.ProjectTestView.as_view(), name="project-test"),
]
