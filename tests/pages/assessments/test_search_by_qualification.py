"""The expert-search page filters by a current qualification (a filter assessments contributes)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.assessments.models import Attempt, Qualification, Test
from apps.experts import services as expert_services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def expert(email):
    user = UserFactory(email=email)
    expert_services.profile_update(actor=user, headline=f"Expert {email}")
    return user


def qualify(user, test, **overrides):
    now = timezone.now()
    attempt = Attempt.objects.create(
        test=test, expert=user, number=1, status=Attempt.Status.GRADED, started_at=now, deadline_at=now, passed=True
    )
    fields = {"granted_at": now, "expires_at": now + timedelta(days=365)} | overrides
    return Qualification.objects.create(
        expert=user, test=test, family=test.family, attempt=attempt, score="0.9000", **fields
    )


def test_the_search_page_offers_published_qualification_tests_and_filters_by_them(client, lab, lab_admin):
    test = Test.objects.create(title="Radiology qualification", status=Test.Status.PUBLISHED)
    Test.objects.create(title="Draft test nobody may filter by")
    qualified, unqualified, lapsed = expert("q@x.test"), expert("u@x.test"), expert("l@x.test")
    qualify(qualified, test)
    qualify(lapsed, test, expires_at=timezone.now() - timedelta(days=1))
    client.force_login(lab_admin)

    page = client.get(reverse("experts:search")).content.decode()
    filtered = client.get(reverse("experts:search"), {"qualification": str(test.public_id)}).content.decode()

    assert "Radiology qualification" in page and "Draft test nobody may filter by" not in page
    assert qualified.expert_profile.handle in filtered
    assert unqualified.expert_profile.handle not in filtered
    assert lapsed.expert_profile.handle not in filtered
