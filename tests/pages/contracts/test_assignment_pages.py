"""Assignments on the contract page: the supplier sees each candidate's unmet gates before it
assigns; a refusal lists them; an expert who meets every gate is assigned. The lab sees assigned
experts by handle only."""

import pytest
from django.urls import reverse

from apps.contracts.models import Assignment, NdaAcceptance
from apps.projects import services as project_services
from tests.factories import BidFactory, CredentialFactory
from tests.pages.conftest import text
from tests.pages.contracts.conftest import award, detail_url, make_assignable, shown_hash

pytestmark = pytest.mark.django_db


def assign(client, contract, expert):
    return client.post(reverse("contracts:assign", args=[contract.public_id]), {"expert": str(expert.public_id)})


def test_the_supplier_sees_each_candidates_unmet_gates_before_assigning(
    as_user, vendor_manager, roster_expert, active_contract
):
    page = text(as_user(vendor_manager).get(detail_url(active_contract)))

    row = page[page.index(f'id="candidate-{roster_expert.public_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Dr Amara Okafor" in row and "ex-amara01" in row
    assert "No verified, unexpired board certification." in row
    assert "Has not accepted the contract&#x27;s NDA." in row
    assert "Has not acknowledged guidelines v1." in row
    assert f'<option value="{roster_expert.public_id}">Dr Amara Okafor (3 gates unmet)</option>' in page


def test_an_assignment_refused_lists_the_unmet_gates_on_the_page(
    as_user, vendor_manager, roster_expert, active_contract
):
    CredentialFactory(profile=roster_expert.expert_profile, type="board_certification", verified=True)

    response = assign(as_user(vendor_manager), active_contract, roster_expert)

    page = text(response)
    assert response.status_code == 400
    refusal = page[page.index('id="assign-refused"') :]
    refusal = refusal[: refusal.index("</div>")]
    assert "Not assigned: Dr Amara Okafor does not pass every gate yet." in refusal
    assert "Has not accepted the contract&#x27;s NDA." in refusal
    assert "Has not acknowledged guidelines v1." in refusal
    assert "board certification" not in refusal  # that gate is met
    assert not Assignment.objects.exists()


def test_an_expert_who_meets_every_gate_through_the_pages_is_assigned(
    as_user, vendor, vendor_manager, roster_expert, active_contract
):
    contract = active_contract
    CredentialFactory(profile=roster_expert.expert_profile, type="board_certification", verified=True)
    expert = as_user(roster_expert)
    # the expert reads the contract page (no money on it), accepts the NDA and acknowledges the guidelines
    own = text(expert.get(detail_url(contract)))
    assert "Has not accepted the contract&#x27;s NDA." in own
    assert "USD" not in own[own.index("<main") : own.index("</main>")]
    nda = text(expert.get(reverse("contracts:nda", args=[contract.public_id])))
    assert "standard-nda-v1" in nda and 'id="nda-form"' in nda
    expert.post(reverse("contracts:nda", args=[contract.public_id]))
    assert NdaAcceptance.objects.filter(contract=contract, user=roster_expert, nda_version="standard-nda-v1").exists()
    version = contract.project.guideline_versions.get(number=1)
    project_services.guideline_acknowledge(actor=roster_expert, organization=vendor, version=version)

    manager = as_user(vendor_manager)
    page = text(manager.get(detail_url(contract)))
    row = page[page.index(f'id="candidate-{roster_expert.public_id}"') :]
    assert "Ready to assign" in row[: row.index("</tr>")]
    response = assign(manager, contract, roster_expert)

    assert response.status_code == 302
    assignment = Assignment.objects.get(contract=contract, expert=roster_expert)
    assert assignment.status == Assignment.Status.ACTIVE
    page = text(manager.get(response["Location"]))
    assert "Dr Amara Okafor is assigned to this contract and was told." in page
    listed = page[page.index('id="assignment-list"') :]
    assert "Dr Amara Okafor" in listed and "ex-amara01" in listed
    assert f'id="candidate-{roster_expert.public_id}"' not in page  # no longer a candidate
    # the expert sees the assignment
    expert = as_user(roster_expert)
    assert "Every gate is met" in text(expert.get(detail_url(contract)))
    mine = text(expert.get(reverse("contracts:assignments")))
    assert '<span class="badge badge--active">Active</span>' in mine[mine.index('id="work-table"') :]

    # the supplier ends it
    manager = as_user(vendor_manager)
    manager.post(reverse("contracts:assignment_end", args=[contract.public_id, assignment.public_id]))
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ENDED


def test_the_labs_page_shows_assigned_experts_by_handle_never_by_name_or_email(
    as_user, lab_owner, vendor_manager, roster_expert, active_contract
):
    make_assignable(active_contract, roster_expert)
    manager = as_user(vendor_manager)
    manager.get(assign(manager, active_contract, roster_expert)["Location"])  # shows (and uses up) its message

    page = text(as_user(lab_owner).get(detail_url(active_contract)))

    listed = page[page.index('id="assignment-list"') :]
    assert "ex-amara01" in listed
    assert "Okafor" not in page and "amara@experts.test" not in page
    assert 'id="assign-form"' not in page and 'id="candidates"' not in page


def test_an_independent_expert_is_shown_to_the_lab_by_handle_only(as_user, lab_owner, project, independent):
    bid = BidFactory(project=project, bidder=independent["org"], volume=300)
    (contract,) = award(project, lab_owner, [(bid, 300)])
    solo = as_user(independent["user"])
    solo.post(
        reverse("contracts:sign", args=[contract.public_id]),
        {"terms_hash": shown_hash(text(solo.get(detail_url(contract))))},
    )

    lab = as_user(lab_owner)
    listing = text(lab.get(reverse("contracts:list")))
    page = text(lab.get(detail_url(contract)))
    version = text(lab.get(reverse("contracts:version", args=[contract.public_id, 1])))

    for html in (listing, page, version):
        main = html[html.index("<main") : html.index("</main>")]
        assert "Independent expert ex-solo0001" in main
        assert "Ada Solo" not in main and "solo@expert.test" not in main
    signed = page[page.index('id="signature-supplier"') :]
    assert "by Independent expert ex-solo0001" in signed[: signed.index("</li>")]

    # the independent expert, their own supplier, is their only candidate
    lab.post(reverse("contracts:sign", args=[contract.public_id]), {"terms_hash": shown_hash(page)})
    own = text(as_user(independent["user"]).get(detail_url(contract)))
    assert 'id="my-nda"' in own
    assert f'id="candidate-{independent["user"].public_id}"' in own
