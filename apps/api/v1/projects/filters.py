"""Query-string filters of the lab's project list (beyond what the selector takes)."""

import django_filters

from apps.projects.models import Project, TaskType, Visibility


class LabProjectFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Project.Status.choices)
    task_type = django_filters.ChoiceFilter(choices=TaskType.choices)
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)

    class Meta:
        model = Project
        fields = ["status", "task_type", "visibility"]
