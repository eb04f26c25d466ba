from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization-list"),
    path("organizations/<uuid:org_id>/", views.OrganizationDetailView.as_view(), name="organization-detail"),
    path("organizations/<uuid:org_id>/members/", views.MemberListView.as_view(), name="member-list"),
    path(
        "organizations/<uuid:org_id>/members/<uuid:member_id>/",
        views.MemberDetailRoute.as_view(),
        name="member-detail",
    ),
    path(
        "organizations/<uuid:org_id>/invitations/",
        views.InvitationCollectionRoute.as_view(),
        name="invitation-list",
    ),
    path(
        "organizations/<uuid:org_id>/invitations/<uuid:invitation_id>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path("invitations/accept/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("organizations/<uuid:org_id>/api-keys/", views.ApiKeyCollectionRoute.as_view(), name="api-key-list"),
    path(
        "organizations/<uuid:org_id>/api-keys/<uuid:key_id>/revoke/",
        views.ApiKeyRevokeView.as_view(),
        name="api-key-revoke",
    ),
]
