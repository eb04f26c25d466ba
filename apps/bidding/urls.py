"""The project pages that show bids, their actions, and the supplier's bids."""

from django.urls import path

from . import views

app_name = "bidding"

urlpatterns = [
    # Labs: the project page and everything done on it
    path("projects/<uuid:public_id>/", views.project_detail, name="project_detail"),
    path("projects/<uuid:public_id>/publish/", views.project_publish, name="project_publish"),
    path("projects/<uuid:public_id>/close/", views.project_close, name="project_close"),
    path("projects/<uuid:public_id>/cancel/", views.project_cancel, name="project_cancel"),
    path("projects/<uuid:public_id>/start/", views.project_start, name="project_start"),
    path("projects/<uuid:public_id>/complete/", views.project_complete, name="project_complete"),
    path("projects/<uuid:public_id>/qualification-test/", views.project_test_require, name="project_test_require"),
    path("projects/<uuid:public_id>/guidelines/", views.guideline_publish, name="guideline_publish"),
    path(
        "projects/<uuid:public_id>/questions/<uuid:question_id>/answer/",
        views.question_answer,
        name="question_answer",
    ),
    path("projects/<uuid:public_id>/bids/<uuid:bid_id>/shortlist/", views.bid_shortlist, name="bid_shortlist"),
    path("projects/<uuid:public_id>/bids/<uuid:bid_id>/reject/", views.bid_reject, name="bid_reject"),
    path("projects/<uuid:public_id>/award/", views.award, name="award"),
    # Suppliers
    path("marketplace/<uuid:public_id>/", views.marketplace_detail, name="marketplace_detail"),
    path("marketplace/<uuid:public_id>/questions/", views.question_ask, name="question_ask"),
    path("marketplace/<uuid:public_id>/bid/", views.bid_submit, name="bid_submit"),
    path("bids/", views.bid_list, name="bid_list"),
    path("bids/<uuid:bid_id>/revise/", views.bid_revise, name="bid_revise"),
    path("bids/<uuid:bid_id>/withdraw/", views.bid_withdraw, name="bid_withdraw"),
]
