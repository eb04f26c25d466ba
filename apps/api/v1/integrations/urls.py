from django.urls import path

from . import views

_E = "webhook-endpoints/<uuid:endpoint_id>/"

urlpatterns = [
    path("webhook-endpoints/", views.WebhookEndpointCollectionRoute.as_view(), name="webhook-endpoint-list"),
    path(_E, views.WebhookEndpointDetailView.as_view(), name="webhook-endpoint-detail"),
    path(f"{_E}rotate-secret/", views.WebhookEndpointRotateSecretView.as_view(), name="webhook-endpoint-rotate-secret"),
    path(f"{_E}test/", views.WebhookEndpointTestView.as_view(), name="webhook-endpoint-test"),
    path("webhook-deliveries/", views.WebhookDeliveryListView.as_view(), name="webhook-delivery-list"),
    path(
        "webhook-deliveries/<uuid:delivery_id>/redeliver/",
        views.WebhookDeliveryRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
    path("events/", views.EventListView.as_view(), name="event-list"),
]
