"""Helpers shared by the project and bidding tests."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.notifications.models import Notification


def audit_rows(obj):
    return AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(type(obj)), target_id=obj.pk)


def audit_actions(obj) -> list[str]:
    return list(audit_rows(obj).order_by("id").values_list("action", flat=True))


def kinds_for(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True))


def complete_fields(domain, /, **overrides) -> dict:
    """Every field ``project_create`` takes, as the API passes them, for a publishable project."""
    deadline = timezone.now() + timedelta(days=14)
    fields = {
        "title": "Radiology report preferences",
        "description": "Pairwise preferences between two draft radiology reports.",
        "task_type": "preference_comparison",
        "domain": domain.slug,
        "required_credential_types": ["board_certification"],
        "unit_name": "comparison",
        "volume": 1000,
        "currency": "USD",
        "budget_cap": "5000.00",
        "target_unit_price": "2.50",
        "sla_min_gold_accuracy": "0.85",
        "sla_min_alpha": "0.6",
        "sla_max_turnaround_days": 3,
        "bid_deadline": deadline,
        "starts_on": deadline.date() + timedelta(days=7),
        "ends_on": deadline.date() + timedelta(days=67),
    }
    fields.update(overrides)
    return fields


def bid_terms(project, **overrides) -> dict:
    """Valid terms for a bid on ``project`` (all of its volume at 2.00 a unit)."""
    starts = project.starts_on or timezone.localdate() + timedelta(days=30)
    terms = {
        "unit_price": "2.00",
        "volume": project.volume or 100,
        "weekly_capacity": 250,
        "starts_on": starts,
        "ends_on": starts + timedelta(days=30),
        "proposal": "Two board-certified radiologists, double review.",
    }
    terms.update(overrides)
    return terms
