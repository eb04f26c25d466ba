from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read-all/", views.mark_all_read, name="mark_all_read"),
    path("notifications/settings/", views.notification_settings, name="settings"),
    path("notifications/<uuid:public_id>/read/", views.mark_read, name="mark_read"),
]
