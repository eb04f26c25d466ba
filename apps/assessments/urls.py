from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    # Experts
    path("tests/", views.open_tests, name="open_tests"),
    path("tests/<uuid:public_id>/start/", views.attempt_start, name="attempt_start"),
    path("tests/attempts/<uuid:public_id>/", views.attempt_take, name="attempt"),
    path("tests/attempts/<uuid:public_id>/answer/", views.attempt_answer, name="attempt_answer"),
    path("tests/attempts/<uuid:public_id>/submit/", views.attempt_submit, name="attempt_submit"),
    path("tests/attempts/<uuid:public_id>/result/", views.attempt_result, name="attempt_result"),
    path("tests/qualifications/", views.qualifications, name="qualifications"),
    path("tests/qualifications/<uuid:public_id>/revoke/", views.qualification_revoke, name="qualification_revoke"),
    # Authors (a lab's owners and admins; operations for platform tests)
    path("tests/authoring/", views.authoring_list, name="authoring"),
    path("tests/authoring/new/", views.test_create, name="test_create"),
    path("tests/authoring/<uuid:public_id>/", views.test_detail, name="test_detail"),
    path("tests/authoring/<uuid:public_id>/edit/", views.test_edit, name="test_edit"),
    path("tests/authoring/<uuid:public_id>/items/", views.item_add, name="item_add"),
    path("tests/authoring/<uuid:public_id>/import/", views.items_import, name="items_import"),
    path("tests/authoring/<uuid:public_id>/publish/", views.test_publish, name="test_publish"),
    path("tests/authoring/<uuid:public_id>/retire/", views.test_retire, name="test_retire"),
    path("tests/authoring/<uuid:public_id>/new-version/", views.test_new_version, name="test_new_version"),
    # Graders
    path("tests/grading/", views.grading_queue, name="grading"),
    path("tests/grading/<uuid:public_id>/claim/", views.grading_claim, name="grading_claim"),
    path("tests/grading/<uuid:public_id>/score/", views.grading_score, name="grading_score"),
    # Calibration rounds (labs; suppliers see the rounds they are invited to)
    path("tests/calibration/", views.calibration_rounds, name="calibration"),
    path("tests/calibration/<uuid:public_id>/", views.calibration_report, name="calibration_report"),
    path("tests/calibration/<uuid:public_id>/close/", views.calibration_round_close, name="calibration_close"),
]
