from django.urls import path

from . import views

urlpatterns = [
    path("bids/", views.BidCollectionRoute.as_view(), name="bid-list"),
    path("bids/<uuid:bid_id>/", views.BidDetailView.as_view(), name="bid-detail"),
    path("bids/<uuid:bid_id>/revise/", views.BidReviseView.as_view(), name="bid-revise"),
    path("bids/<uuid:bid_id>/withdraw/", views.BidWithdrawView.as_view(), name="bid-withdraw"),
    path("bids/<uuid:bid_id>/shortlist/", views.BidShortlistView.as_view(), name="bid-shortlist"),
    path("bids/<uuid:bid_id>/reject/", views.BidRejectView.as_view(), name="bid-reject"),
    path("projects/<uuid:project_id>/bids/", views.ProjectBidListView.as_view(), name="project-bids"),
    path(
        "projects/<uuid:project_id>/bid-comparison/", views.BidComparisonView.as_view(), name="project-bid-comparison"
    ),
    path("projects/<uuid:project_id>/award/", views.AwardCreateView.as_view(), name="project-award"),
    path("projects/<uuid:project_id>/questions/", views.QuestionRoute.as_view(), name="project-questions"),
    path("questions/<uuid:question_id>/answer/", views.QuestionAnswerView.as_view(), name="question-answer"),
]
