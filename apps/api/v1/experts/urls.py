from django.urls import path

from . import views

urlpatterns = [
    path("experts/", views.ExpertListView.as_view(), name="expert-list"),
    path("experts/<uuid:expert_id>/", views.ExpertDetailView.as_view(), name="expert-detail"),
    path("profile/", views.ProfileRoute.as_view(), name="profile"),
    path("credentials/", views.CredentialCollectionRoute.as_view(), name="credential-list"),
    path("credentials/queue/", views.CredentialQueueView.as_view(), name="credential-queue"),
    path("credentials/<uuid:credential_id>/", views.CredentialDetailView.as_view(), name="credential-detail"),
    path(
        "credentials/<uuid:credential_id>/evidence/",
        views.CredentialEvidenceView.as_view(),
        name="credential-evidence",
    ),
    path("credentials/<uuid:credential_id>/verify/", views.CredentialVerifyView.as_view(), name="credential-verify"),
    path("credentials/<uuid:credential_id>/reject/", views.CredentialRejectView.as_view(), name="credential-reject"),
    path("credentials/<uuid:credential_id>/revoke/", views.CredentialRevokeView.as_view(), name="credential-revoke"),
    path("credential-flags/", views.CredentialFlagListView.as_view(), name="credential-flag-list"),
    path(
        "credential-flags/<uuid:flag_id>/resolve/",
        views.CredentialFlagResolveView.as_view(),
        name="credential-flag-resolve",
    ),
    path("roster/", views.RosterListView.as_view(), name="roster-list"),
    path("roster/invitations/", views.RosterInviteView.as_view(), name="roster-invite"),
    path("roster/<uuid:entry_id>/suspend/", views.RosterSuspendView.as_view(), name="roster-suspend"),
    path("roster/<uuid:entry_id>/reinstate/", views.RosterReinstateView.as_view(), name="roster-reinstate"),
    path("roster/<uuid:entry_id>/offboard/", views.RosterOffboardView.as_view(), name="roster-offboard"),
    path("roster-memberships/", views.RosterMembershipListView.as_view(), name="roster-membership-list"),
    path(
        "roster-memberships/<uuid:entry_id>/accept/",
        views.RosterMembershipAcceptView.as_view(),
        name="roster-membership-accept",
    ),
    path(
        "roster-memberships/<uuid:entry_id>/decline/",
        views.RosterMembershipDeclineView.as_view(),
        name="roster-membership-decline",
    ),
]
