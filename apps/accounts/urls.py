from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("orgs/switch/", views.org_switch, name="org_switch"),
    path("orgs/new/", views.org_create, name="org_create"),
    path("orgs/<slug:slug>/settings/", views.org_settings, name="org_settings"),
    path("orgs/<slug:slug>/leave/", views.org_leave, name="org_leave"),
    path("orgs/<slug:slug>/invitations/", views.invitation_create, name="invitation_create"),
    path("orgs/<slug:slug>/invitations/<uuid:public_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("orgs/<slug:slug>/members/<uuid:public_id>/role/", views.member_change_role, name="member_change_role"),
    path("orgs/<slug:slug>/members/<uuid:public_id>/remove/", views.member_remove, name="member_remove"),
    path("orgs/<slug:slug>/api-keys/", views.api_key_create, name="api_key_create"),
    path("orgs/<slug:slug>/api-keys/<uuid:public_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
