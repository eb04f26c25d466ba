"""Expert search filtered by a current qualification (the Assessments capability)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.assessments.models import Attempt, Qualification, Test

pytestmark = pytest.mark.django_db

URL = "/api/v1/experts/"


def qualify(user, test, *, expires_in_days=365, revoked=False):
    now = timezone.now()
    attempt = Attempt.objects.create(
        test=test, expert=user, number=1, status=Attempt.Status.GRADED, started_at=now, deadline_at=now, passed=True
    )
    return Qualification.objects.create(
        expert=user, test=test, family=test.family, attempt=attempt, score="0.9000", granted_at=now,
        expires_at=now + timedelta(days=expires_in_days),
        status=Qualification.Status.REVOKED if revoked else Qualification.Status.ACTIVE,
    )  # fmt: skip


@pytest.fixture
def radiology_test(db):
    return Test.objects.create(title="Radiology qualification", status=Test.Status.PUBLISHED)


def handles(response):
    assert response.status_code == 200, response.content
    return {row["handle"] for row in response.json()["results"]}


def test_only_experts_with_a_current_qualification_match(api_as, lab, lab_admin, make_expert, radiology_test):
    qualified = make_expert("qualified@x.test")
    expired = make_expert("expired@x.test")
    revoked = make_expert("revoked@x.test")
    make_expert("never@x.test")
    qualify(qualified, radiology_test)
    qualify(expired, radiology_test, expires_in_days=-1)
    qualify(revoked, radiology_test, revoked=True)
    newer = Test.objects.create(title="Radiology qualification", family=radiology_test.family, version=2)

    found = handles(api_as(lab_admin).get(URL, {"qualification": str(newer.public_id)}))

    assert found == {qualified.expert_profile.handle}


def test_an_unknown_qualification_test_is_refused_naming_the_parameter(api_as, lab_admin, lab):
    response = api_as(lab_admin).get(URL, {"qualification": "00000000-0000-0000-0000-000000000000"})

    assert response.status_code == 400
    assert "qualification" in response.json()["error"]["details"]
