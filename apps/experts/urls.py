from django.urls import path

from . import views

app_name = "experts"

urlpatterns = [
    # Experts
    path("experts/profile/", views.profile, name="profile"),
    path("experts/credentials/", views.credentials, name="credentials"),
    path("experts/credentials/<uuid:public_id>/evidence/", views.credential_evidence, name="credential_evidence"),
    path("roster/invitations/", views.roster_invitations, name="roster_invitations"),
    path("roster/invitations/<uuid:public_id>/accept/", views.roster_accept, name="roster_accept"),
    path("roster/invitations/<uuid:public_id>/decline/", views.roster_decline, name="roster_decline"),
    path("roster/join/<str:token>/", views.roster_join, name="roster_join"),
    # Labs and vendors
    path("experts/search/", views.expert_search, name="search"),
    # Vendors
    path("orgs/<slug:slug>/roster/", views.roster, name="roster"),
    path("orgs/<slug:slug>/roster/invite/", views.roster_invite, name="roster_invite"),
    path("orgs/<slug:slug>/roster/<uuid:public_id>/suspend/", views.roster_suspend, name="roster_suspend"),
    path("orgs/<slug:slug>/roster/<uuid:public_id>/reinstate/", views.roster_reinstate, name="roster_reinstate"),
    path("orgs/<slug:slug>/roster/<uuid:public_id>/offboard/", views.roster_offboard, name="roster_offboard"),
    # Platform operations
    path("operations/credentials/", views.credential_queue, name="credential_queue"),
    path("operations/credentials/<uuid:public_id>/verify/", views.credential_verify, name="credential_verify"),
    path("operations/credentials/<uuid:public_id>/reject/", views.credential_reject, name="credential_reject"),
    path("operations/credentials/<uuid:public_id>/revoke/", views.credential_revoke, name="credential_revoke"),
    path("operations/flags/", views.flag_list, name="flags"),
    path("operations/flags/<uuid:public_id>/resolve/", views.flag_resolve, name="flag_resolve"),
]
