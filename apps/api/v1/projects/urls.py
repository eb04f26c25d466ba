from django.urls import path

from . import views

urlpatterns = [
    path("projects/", views.ProjectCollectionRoute.as_view(), name="project-list"),
    path("projects/<uuid:project_id>/", views.ProjectRoute.as_view(), name="project-detail"),
    path("projects/<uuid:project_id>/publish/", views.ProjectPublishView.as_view(), name="project-publish"),
    path(
        "projects/<uuid:project_id>/close-bidding/",
        views.ProjectCloseBiddingView.as_view(),
        name="project-close-bidding",
    ),
    path("projects/<uuid:project_id>/start/", views.ProjectStartView.as_view(), name="project-start"),
    path("projects/<uuid:project_id>/complete/", views.ProjectCompleteView.as_view(), name="project-complete"),
    path("projects/<uuid:project_id>/cancel/", views.ProjectCancelView.as_view(), name="project-cancel"),
    path("projects/<uuid:project_id>/guidelines/", views.GuidelineRoute.as_view(), name="project-guidelines"),
    path(
        "projects/<uuid:project_id>/acknowledgements/",
        views.AcknowledgementListView.as_view(),
        name="project-acknowledgements",
    ),
    path(
        "guidelines/<uuid:guideline_id>/acknowledge/",
        views.GuidelineAcknowledgeView.as_view(),
        name="guideline-acknowledge",
    ),
    path("marketplace/", views.MarketplaceView.as_view(), name="marketplace"),
]
