"""The Celery application.

Configuration comes from Django settings under the ``CELERY_`` namespace (see
``marketplace/settings/base.py``). With no broker configured, tasks run in-process
(``task_always_eager``) so the embedded default needs no extra service.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.local")

app = Celery("marketplace", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
