from django.urls import path

from . import views

app_name = "integrations"

_E = "orgs/<slug:slug>/webhooks/<uuid:public_id>/"

urlpatterns = [
    path("orgs/<slug:slug>/webhooks/", views.endpoint_list, name="endpoint_list"),
    path(_E, views.endpoint_detail, name="endpoint_detail"),
    path(f"{_E}update/", views.endpoint_update, name="endpoint_update"),
    path(f"{_E}toggle/", views.endpoint_toggle, name="endpoint_toggle"),
    path(f"{_E}rotate-secret/", views.endpoint_rotate, name="endpoint_rotate"),
    path(f"{_E}test/", views.endpoint_test, name="endpoint_test"),
    path(f"{_E}delete/", views.endpoint_delete, name="endpoint_delete"),
    path(f"{_E}deliveries/<uuid:delivery_id>/redeliver/", views.delivery_redeliver, name="delivery_redeliver"),
]
