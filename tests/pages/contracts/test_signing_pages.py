"""Signing through the contract page: both sides sign the terms they were shown; stale terms and
the wrong role are refused."""

import pytest
from django.urls import reverse

from apps.contracts import services as contract_services
from apps.contracts.models import Contract, ContractVersion, Signature
from tests.pages.conftest import text
from tests.pages.contracts.conftest import detail_url, shown_hash

pytestmark = pytest.mark.django_db


def test_the_list_puts_the_contract_awaiting_your_signature_first(as_user, lab_owner, contract):
    page = text(as_user(lab_owner).get(reverse("contracts:list")))

    row = page[page.index(f'id="contract-{contract.public_id}"') :]
    row = row[: row.index("</tr>")]
    assert contract.project.title in row
    assert "Northwind Annotation" in row
    assert "Awaiting your signature" in row
    assert "2.0000 USD" in row and "600" in row and "1,200.00 USD" in row
    assert 'Awaiting your signature <span class="badge badge--warning">1</span>' in page


def test_both_sides_sign_through_the_page_and_the_contract_becomes_active(
    as_user, client, lab_owner, vendor_manager, contract
):
    lab_page = text(as_user(lab_owner).get(detail_url(contract)))
    assert "v1 awaits signatures" in lab_page
    assert "No terms are in force yet" in lab_page
    terms = lab_page[lab_page.index('id="pending-terms"') :]
    assert "2.0000 USD per comparison" in terms
    assert "600 comparisons" in terms
    assert "≥ 0.95: ×1.10" in terms and "below 0.75: ×0, with rework" in terms
    response = client.post(reverse("contracts:sign", args=[contract.public_id]), {"terms_hash": shown_hash(lab_page)})
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "You signed v1. It takes effect once the other side signs." in page
    assert 'id="sign-form"' not in page
    signed = page[page.index('id="signature-lab"') :]
    assert "Signed" in signed[: signed.index("</li>")]
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.PENDING_SIGNATURE

    supplier = as_user(vendor_manager)
    supplier_page = text(supplier.get(detail_url(contract)))
    lab_side = supplier_page[supplier_page.index('id="signature-lab"') :]
    assert "by Acme AI Lab" in lab_side[: lab_side.index("</li>")]  # the other side by its name only
    response = supplier.post(
        reverse("contracts:sign", args=[contract.public_id]), {"terms_hash": shown_hash(supplier_page)}
    )
    page = text(supplier.get(response["Location"]))

    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    assert contract.current_version.number == 1
    assert "Both sides have signed: these terms are in force. The contract is active." in page
    assert "Status: Active" in page
    assert 'id="terms-in-force"' in page and 'id="pending"' not in page
    assert set(Signature.objects.filter(version__contract=contract).values_list("side", flat=True)) == {
        "lab",
        "supplier",
    }


def test_a_stale_terms_hash_is_refused_with_the_message_and_nothing_is_stored(
    as_user, lab_owner, vendor_manager, contract
):
    client = as_user(lab_owner)
    seen = shown_hash(text(client.get(detail_url(contract))))
    # Meanwhile the supplier proposes other terms: v1 is withdrawn and v2 awaits signatures.
    version = contract.versions.get(number=1)
    contract_services.contract_amend(
        actor=vendor_manager,
        organization=contract.supplier,
        contract=contract,
        changes={"unit_rate": "2.2000"},
        change_summary="Our rate is 2.20",
    )

    response = client.post(reverse("contracts:sign", args=[contract.public_id]), {"terms_hash": seen}, follow=True)

    page = text(response)
    assert "the terms changed; read them again" in page
    assert not Signature.objects.filter(version__contract=contract).exists()
    assert ContractVersion.objects.get(pk=version.pk).status == ContractVersion.Status.WITHDRAWN
    # the page now shows the new terms, with their own hash
    assert "v2 awaits signatures" in page
    assert shown_hash(page) != seen
    assert "Our rate is 2.20" in page


def test_a_lab_member_reads_the_contract_but_cannot_sign(as_user, lab_member, contract):
    client = as_user(lab_member)
    page = text(client.get(detail_url(contract)))
    assert 'id="sign-form"' not in page
    assert 'id="amend-form"' not in page
    assert "its owner and admins sign" in page
    version = contract.versions.get(number=1)

    response = client.post(reverse("contracts:sign", args=[contract.public_id]), {"terms_hash": version.terms_hash})

    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_the_lab_pauses_and_resumes_and_either_side_terminates_with_a_reason(
    as_user, lab_owner, vendor_manager, active_contract
):
    contract = active_contract
    lab = as_user(lab_owner)
    page = text(lab.get(detail_url(contract)))
    assert f'action="/contracts/{contract.public_id}/pause/"' in page

    lab.post(reverse("contracts:pause", args=[contract.public_id]))
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PAUSED
    lab.post(reverse("contracts:resume", args=[contract.public_id]))
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE

    supplier = as_user(vendor_manager)  # the same test client, now the supplier's manager
    supplier_page = text(supplier.get(detail_url(contract)))
    assert "/pause/" not in supplier_page and "Terminate" in supplier_page
    assert supplier.post(reverse("contracts:pause", args=[contract.public_id])).status_code == 403
    refused = text(
        supplier.post(reverse("contracts:terminate", args=[contract.public_id]), {"reason": ""}, follow=True)
    )
    assert "Nothing changed: Give a reason." in refused
    done = supplier.post(
        reverse("contracts:terminate", args=[contract.public_id]), {"reason": "Our reviewers left."}, follow=True
    )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.TERMINATED
    assert "Our reviewers left." in text(done)
    assert "Our reviewers left." in text(as_user(lab_owner).get(detail_url(contract)))
