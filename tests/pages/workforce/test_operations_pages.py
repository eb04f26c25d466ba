"""Platform operations review credentials in a queue and resolve flags; nobody else sees either."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.experts.models import Credential, CredentialFlag
from apps.notifications.models import Notification
from tests.factories import UserFactory
from tests.pages.conftest import text
from tests.pages.workforce.conftest import png_bytes, upload

pytestmark = pytest.mark.django_db

QUEUE = "experts:credential_queue"


def test_queue_lists_pending_credentials_oldest_first_with_evidence(
    as_user, operations, independent_expert, expert, submit_credential
):
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        older = submit_credential(
            expert, title="Licensed pharmacist", file=upload("licence.png", png_bytes(), "image/png")
        )
    newer = submit_credential(independent_expert, title="Board certified radiologist")

    page = text(as_user(operations).get(reverse(QUEUE)))

    assert page.index("Licensed pharmacist") < page.index("Board certified radiologist")
    evidence = reverse("experts:credential_evidence", args=[older.public_id])
    assert f'<img src="{evidence}"' in page
    assert reverse("experts:credential_evidence", args=[newer.public_id]) in page
    assert expert.email in page


def test_operations_can_view_any_evidence(as_user, operations, independent_expert, submit_credential):
    credential = submit_credential(independent_expert, file=upload("licence.png", png_bytes(), "image/png"))

    response = as_user(operations).get(reverse("experts:credential_evidence", args=[credential.public_id]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_operations_verify_through_the_queue_with_a_reverification_date(
    as_user, operations, independent_expert, submit_credential
):
    credential = submit_credential(independent_expert)
    reverify = timezone.localdate() + timedelta(days=90)
    client = as_user(operations)

    response = client.post(
        reverse("experts:credential_verify", args=[credential.public_id]), {"reverify_on": reverify.isoformat()}
    )

    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.status == Credential.Status.VERIFIED
    assert credential.verified_by == operations
    assert credential.reverify_on == reverify
    page = text(client.get(response["Location"]))
    assert "Verified “Board certified, diagnostic radiology”" in page
    assert "The queue is empty" in page
    assert Notification.objects.filter(recipient=independent_expert, kind="credential.verified").exists()


def test_reject_without_a_reason_changes_nothing_and_says_why(
    as_user, operations, independent_expert, submit_credential
):
    credential = submit_credential(independent_expert)
    client = as_user(operations)

    response = client.post(reverse("experts:credential_reject", args=[credential.public_id]), {"reason": "  "})

    credential.refresh_from_db()
    assert credential.status == Credential.Status.PENDING
    assert "Give a reason" in text(client.get(response["Location"]))


def test_operations_reject_with_a_reason(as_user, operations, independent_expert, submit_credential):
    credential = submit_credential(independent_expert)

    as_user(operations).post(
        reverse("experts:credential_reject", args=[credential.public_id]), {"reason": "Scan is illegible"}
    )

    credential.refresh_from_db()
    assert credential.status == Credential.Status.REJECTED
    assert credential.status_reason == "Scan is illegible"


def test_operations_revoke_a_verified_credential_from_the_verified_tab(
    as_user, operations, independent_expert, verified_credential
):
    credential = verified_credential(independent_expert)
    client = as_user(operations)
    page = text(client.get(reverse(QUEUE) + "?status=verified"))
    assert reverse("experts:credential_revoke", args=[credential.public_id]) in page

    response = client.post(
        reverse("experts:credential_revoke", args=[credential.public_id]),
        {"reason": "Licence suspended by the board", "tab": "verified"},
    )

    assert response["Location"].endswith("?status=verified")
    credential.refresh_from_db()
    assert credential.status == Credential.Status.REVOKED
    assert credential.status_reason == "Licence suspended by the board"


@pytest.mark.parametrize("persona", ["expert", "vendor_manager", "lab_owner", "finance", "independent_expert"])
def test_everyone_but_operations_gets_404(request, as_user, persona, independent_expert, submit_credential):
    credential = submit_credential(independent_expert)
    client = as_user(request.getfixturevalue(persona))

    assert client.get(reverse(QUEUE)).status_code == 404
    assert client.get(reverse("experts:flags")).status_code == 404
    assert client.post(reverse("experts:credential_verify", args=[credential.public_id])).status_code == 404
    credential.refresh_from_db()
    assert credential.status == Credential.Status.PENDING


def test_flags_page_shows_both_credentials_side_by_side_and_resolves(
    as_user, operations, independent_expert, submit_credential
):
    twin = UserFactory(email="twin@example.test", full_name="Tim Twin")
    first = submit_credential(independent_expert, identifier="ABR-777")
    second = submit_credential(twin, identifier="abr 777")
    flag = CredentialFlag.objects.get()
    client = as_user(operations)

    page = text(client.get(reverse("experts:flags")))

    assert independent_expert.email in page and twin.email in page
    assert reverse("experts:credential_evidence", args=[first.public_id]) in page
    assert reverse("experts:credential_evidence", args=[second.public_id]) in page
    client.post(reverse("experts:flag_resolve", args=[flag.public_id]), {"resolution": "Two different people"})
    flag.refresh_from_db()
    assert flag.status == CredentialFlag.Status.RESOLVED
    assert "No open flags" in text(client.get(reverse("experts:flags")))
