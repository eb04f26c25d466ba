"""The lab reviews a batch on its page; the supplier appeals a rejection; platform operations decide
the appeal on their queue. Each side reads the reasons."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from apps.work.models import Appeal
from tests.pages.conftest import text
from tests.pages.work.conftest import batch_url, section, status_of

pytestmark = pytest.mark.django_db


def review(client, batch, **data):
    return client.post(reverse("work:batch_review", args=[batch.public_id]), data)


def test_the_lab_sees_the_review_forms_and_accepts(as_user, lab_admin, vendor_manager, batch):
    client = as_user(lab_admin)
    page = text(client.get(batch_url(batch)))
    forms = section(page, "review-forms")
    assert 'id="accept-form"' in forms and 'id="partial-form"' in forms and 'id="reject-form"' in forms
    assert "Low gold accuracy" in forms and "Suspected AI-generated" in forms  # the taxonomy

    response = review(client, batch, decision="accept")

    assert response.status_code == 302 and response["Location"] == batch_url(batch) + "#review"
    assert status_of(batch) == "accepted"
    page = text(client.get(response["Location"]))
    assert "Batch accepted: all 6 units." in page
    assert "Accepted: all 6 units" in section(page, "review-outcome")
    assert 'id="review-forms"' not in page
    assert 'id="datasheet"' in page
    supplier_page = text(as_user(vendor_manager).get(batch_url(batch)))
    assert "Accepted: all 6 units" in supplier_page and "Acme AI Lab" in section(supplier_page, "review-outcome")


def test_the_lab_rejects_with_a_reason_and_evidence_the_supplier_reads(as_user, lab_admin, vendor_manager, batch):
    response = review(
        as_user(lab_admin), batch, decision="reject", reason="low_gold_accuracy", evidence="Gold accuracy 0.41 on 40."
    )
    assert response.status_code == 302
    assert status_of(batch) == "rejected"

    page = text(as_user(vendor_manager).get(batch_url(batch)))
    outcome = section(page, "review-outcome")
    assert "Low gold accuracy" in outcome and "Gold accuracy 0.41 on 40." in outcome
    assert 'id="appeal-form"' in page and "You may appeal until" in page


def test_a_rejection_without_evidence_is_refused_on_the_form(as_user, lab_admin, batch):
    response = review(as_user(lab_admin), batch, decision="reject", reason="other", evidence="  ")

    assert response.status_code == 400
    form = section(text(response), "reject-form")
    assert "This field is required." in form[: form.index("</form>")]
    assert status_of(batch) == "submitted"


def test_the_lab_partially_accepts(as_user, lab_admin, batch):
    client = as_user(lab_admin)
    response = review(client, batch, decision="partial", accepted_units="6", reason="incomplete", evidence="x")
    assert response.status_code == 400
    assert "Between 1 and 5" in section(text(response), "partial-form")
    assert status_of(batch) == "submitted"

    response = review(
        client,
        batch,
        decision="partial",
        accepted_units="4",
        reason="incomplete",
        evidence="Two items lack a third vote.",
    )
    assert response.status_code == 302
    page = text(client.get(batch_url(batch)))
    outcome = section(page, "review-outcome")
    assert "4 of 6 units accepted; 2 refused" in outcome and "Incomplete" in outcome
    assert "Partially accepted" in section(page, "datasheet")


def test_after_the_review_window_only_accepting_is_offered(as_user, lab_admin, batch):
    with time_machine.travel(batch.review_due_at + timedelta(minutes=1)):
        client = as_user(lab_admin)
        page = text(client.get(batch_url(batch)))
        assert 'id="accept-form"' in page and 'id="reject-form"' not in page
        response = review(client, batch, decision="reject", reason="other", evidence="Late.")
        assert response.status_code == 302
        assert "review window has passed" in text(client.get(response["Location"]))
    assert status_of(batch) == "submitted"


def test_a_lab_member_reads_but_does_not_review(as_user, lab_member, batch):
    client = as_user(lab_member)
    page = text(client.get(batch_url(batch)))
    assert 'id="review-forms"' not in page and "owner and admins review" in page
    assert review(client, batch, decision="accept").status_code == 403
    assert status_of(batch) == "submitted"


def test_the_supplier_cannot_review_its_own_batch(as_user, vendor_manager, batch):
    assert review(as_user(vendor_manager), batch, decision="accept").status_code == 404
    assert status_of(batch) == "submitted"


def test_the_supplier_appeals_and_operations_decide(as_user, client, vendor_manager, lab_admin, operations, rejected):
    supplier = as_user(vendor_manager)
    response = supplier.post(
        reverse("work:batch_appeal", args=[rejected.public_id]), {"reason": "Rule 3 was published after delivery."}
    )
    assert response.status_code == 302
    assert status_of(rejected) == "appealed"
    page = text(supplier.get(batch_url(rejected)))
    assert "Appeal sent." in page
    assert "Rule 3 was published after delivery." in section(page, "appeal-reason")
    assert 'id="appeal-form"' not in page and 'id="appeal-pending"' in page
    assert "Rule 3 was published after delivery." in text(as_user(lab_admin).get(batch_url(rejected)))

    ops = as_user(operations)
    queue = text(ops.get(reverse("work:appeals")))
    appeal = Appeal.objects.get()
    card = section(queue, f"appeal-{appeal.public_id}")
    assert "Radiology preferences" in card
    assert "Guideline violation" in card and "Items 0 and 1 ignore rule 3." in card  # the lab's reason, evidence
    assert "Rule 3 was published after delivery." in card  # the appeal's reason
    assert batch_url(rejected) in card
    # Operations open the batch from the notification's link.
    assert "Rule 3 was published after delivery." in text(ops.get(batch_url(rejected)))

    response = ops.post(reverse("work:appeal_decide", args=[appeal.public_id]), {"outcome": "overturn", "reason": ""})
    assert response.status_code == 400
    assert "This field is required." in section(text(response), f"decide-{appeal.public_id}")

    response = ops.post(
        reverse("work:appeal_decide", args=[appeal.public_id]),
        {"outcome": "overturn", "reason": "Rule 3 postdates the batch.", "next": reverse("work:appeals")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("work:appeals")
    assert status_of(rejected) == "overturned"
    assert "Appeal decided: the rejection is overturned" in text(ops.get(response["Location"]))
    assert 'id="no-appeals"' in text(ops.get(reverse("work:appeals")))
    assert f"appeal-{appeal.public_id}" in text(ops.get(reverse("work:appeals") + "?status=overturned"))

    for user in (vendor_manager, lab_admin):
        page = text(as_user(user).get(batch_url(rejected)))
        assert "Overturned: the batch counts as accepted" in section(page, "appeal-decision")
        assert "Rule 3 postdates the batch." in page
        assert 'id="datasheet"' in page  # accepted on appeal


def test_operations_uphold_from_the_batch_page(as_user, operations, vendor_manager, appealed):
    appeal = Appeal.objects.get()
    ops = as_user(operations)
    assert 'id="decide-form"' in text(ops.get(batch_url(appealed)))
    response = ops.post(
        reverse("work:appeal_decide", args=[appeal.public_id]),
        {"outcome": "uphold", "reason": "Rule 3 was in v1.", "from": "batch"},
    )
    assert response["Location"] == batch_url(appealed) + "#appeal"
    assert status_of(appealed) == "upheld"
    page = text(as_user(vendor_manager).get(batch_url(appealed)))
    assert "Upheld: the rejection stands" in page and "Rule 3 was in v1." in page


def test_the_appeal_window_closes(as_user, vendor_manager, rejected):
    with time_machine.travel(rejected.reviewed_at + timedelta(days=8)):
        client = as_user(vendor_manager)
        page = text(client.get(batch_url(rejected)))
        assert 'id="appeal-form"' not in page and 'id="appeal-closed"' in page
        response = client.post(reverse("work:batch_appeal", args=[rejected.public_id]), {"reason": "Late."})
        assert "appeal window closed" in text(client.get(response["Location"]))
    assert status_of(rejected) == "rejected"


def test_non_operations_find_no_appeals_page(as_user, lab_owner, vendor_manager, finance, outsider, appealed):
    appeal = Appeal.objects.get()
    for user in (lab_owner, vendor_manager, finance, outsider):
        client = as_user(user)
        assert client.get(reverse("work:appeals")).status_code == 404
        decide = client.post(
            reverse("work:appeal_decide", args=[appeal.public_id]), {"outcome": "overturn", "reason": "x"}
        )
        assert decide.status_code == 404
    assert status_of(appealed) == "appealed"


def test_operations_find_no_batch_without_an_appeal(as_user, operations, batch):
    assert as_user(operations).get(batch_url(batch)).status_code == 404


def test_dashboards_show_the_work_to_do(as_user, lab_admin, vendor_manager, operations, batch, contract):
    lab_home = text(as_user(lab_admin).get(reverse("home")))
    assert batch_url(batch) in section(lab_home, "batches-awaiting")
    assert "1" in section(lab_home, "batches-awaiting-count")[:80]

    assert 'id="no-appealable"' in text(as_user(vendor_manager).get(reverse("home")))
    from apps.work import services

    services.batch_reject(actor=lab_admin, batch=batch, reason="other", evidence="Evidence.")
    supplier_home = text(as_user(vendor_manager).get(reverse("home")))
    assert batch_url(batch) + "#appeal" in section(supplier_home, "appealable")
    assert 'id="no-open-appeals"' in text(as_user(operations).get(reverse("home")))

    services.appeal_open(actor=vendor_manager, organization=contract.supplier, batch=batch, reason="Why.")
    ops_home = text(as_user(operations).get(reverse("home")))
    assert "Radiology preferences" in section(ops_home, "open-appeals")
    assert ("Appeals", reverse("work:appeals")) in [
        (label, url) for label, url in as_user(operations).get(reverse("home")).context["nav_items"]
    ]
    assert 'id="no-appealable"' in text(as_user(vendor_manager).get(reverse("home")))
