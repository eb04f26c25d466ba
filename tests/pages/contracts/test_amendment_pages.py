"""Amendments through the contract page: errors name the field or row; a proposal shows beside the
terms in force with the changed terms marked; every version stays readable."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from apps.contracts.models import ContractVersion
from tests.pages.conftest import text
from tests.pages.contracts.conftest import amend_data, detail_url, shown_hash

pytestmark = pytest.mark.django_db


def amend(client, contract, data):
    return client.post(reverse("contracts:amend", args=[contract.public_id]), data)


def test_an_amendment_with_a_bad_quality_pay_band_names_the_row_and_stores_nothing(as_user, lab_owner, active_contract):
    contract = active_contract
    data = amend_data(
        contract.current_version,
        **{"quality_pay[1].accuracy": "0.97", "change_summary": "Stricter middle band"},  # above band 1
    )

    response = amend(as_user(lab_owner), contract, data)

    page = text(response)
    assert response.status_code == 400
    assert "Quality-pay band 2: Each band&#x27;s accuracy must be below the one before." in page
    row = page[page.index('id="band-row-1"') :]
    assert row.startswith('id="band-row-1" class="has-error"')
    assert 'value="0.97"' in row[: row.index("</tr>")]  # what was typed stays
    assert contract.versions.count() == 1


def test_a_half_filled_band_row_and_a_bad_milestone_are_named_by_row(as_user, lab_owner, active_contract):
    contract = active_contract
    data = amend_data(
        contract.current_version,
        **{
            "quality_pay[3].accuracy": "0.5",  # no multiplier
            "change_summary": "A lower band",
        },
    )
    page = text(amend(as_user(lab_owner), contract, data))
    assert "Quality-pay band 4: Give both the minimum accuracy and the multiplier" in page

    data = amend_data(
        contract.current_version,
        **{
            "milestones[0].title": "Pilot batch",
            "milestones[0].amount": "300.00",
            "milestones[0].due_on": "",
            "milestones[0].acceptance_criteria": "Gold accuracy of at least 0.85 on the pilot.",
            "change_summary": "Add a pilot milestone",
        },
    )
    response = amend(as_user(lab_owner), contract, data)
    page = text(response)
    assert response.status_code == 400
    assert "Milestone 1, due date: A date." in page
    assert contract.versions.count() == 1


def test_an_amendment_without_a_change_or_a_summary_is_refused(as_user, lab_owner, active_contract):
    contract = active_contract
    client = as_user(lab_owner)

    page = text(amend(client, contract, amend_data(contract.current_version)))
    assert "Nothing changed: edit at least one term" in page

    page = text(amend(client, contract, amend_data(contract.current_version, volume_cap="700")))
    assert "What changes and why: This field is required." in page
    assert contract.versions.count() == 1


def test_a_rate_cut_shows_beside_the_terms_in_force_with_when_it_takes_effect(
    as_user, lab_owner, vendor_manager, active_contract
):
    contract = active_contract
    client = as_user(lab_owner)
    data = amend_data(
        contract.current_version,
        unit_rate="1.8000",
        change_summary="Rate cut after the pilot",
        **{
            "milestones[0].title": "Pilot batch",
            "milestones[0].amount": "300.00",
            "milestones[0].due_on": (timezone.localdate() + timedelta(days=20)).isoformat(),
            "milestones[0].acceptance_criteria": "Gold accuracy of at least 0.85 on the pilot.",
        },
    )

    response = amend(client, contract, data)

    assert response.status_code == 302
    v2 = contract.versions.get(number=2)
    assert v2.status == ContractVersion.Status.PROPOSED
    page = text(client.get(detail_url(contract)))
    assert "v2 awaits signatures" in page
    assert "Rate cut after the pilot" in page
    diff = page[page.index('id="pending-terms"') :]
    diff = diff[: diff.index("</table>")]
    rate = diff[diff.index('id="pending-terms-unit_rate"') :]
    assert rate.startswith('id="pending-terms-unit_rate" class="is-changed"')
    assert "2.0000 USD per comparison" in rate and "1.8000 USD per comparison" in rate
    assert 'id="pending-terms-volume_cap" class="is-changed"' not in diff
    assert 'id="pending-terms-milestones" class="is-changed"' in diff
    assert "Pilot batch" in diff and "300.00 USD" in diff
    effective = date_format(timezone.localdate() + timedelta(days=14), "j M Y")
    notice = page[page.index('id="rate-cut"') :]
    notice = notice[: notice.index("</div>")]
    assert "A rate cut: 2.0000 to 1.8000 USD." in notice
    assert "takes effect only when both sides have signed" in notice  # it changes a milestone too
    assert effective not in notice
    # the terms in force are unchanged until both sign
    assert "2.0000 USD per comparison" in page[page.index('id="terms-in-force"') :]

    # the supplier signs the lab's proposal, the lab signs: v2 is in force, v1 superseded
    supplier = as_user(vendor_manager)
    supplier.post(
        reverse("contracts:sign", args=[contract.public_id]),
        {"terms_hash": shown_hash(text(supplier.get(detail_url(contract))))},
    )
    lab = as_user(lab_owner)
    lab.post(
        reverse("contracts:sign", args=[contract.public_id]),
        {"terms_hash": shown_hash(text(lab.get(detail_url(contract))))},
    )
    contract.refresh_from_db()
    assert contract.current_version.number == 2
    assert contract.versions.get(number=1).status == ContractVersion.Status.SUPERSEDED


def test_a_rate_cut_alone_takes_effect_after_the_notice_period(as_user, lab_owner, active_contract):
    contract = active_contract
    client = as_user(lab_owner)
    amend(client, contract, amend_data(contract.current_version, unit_rate="1.9000", change_summary="Rate cut"))

    page = text(client.get(detail_url(contract)))

    effective = date_format(timezone.localdate() + timedelta(days=14), "j M Y")
    notice = page[page.index('id="rate-cut"') :]
    assert f"it takes effect on <strong>{effective}</strong>, after the 14-day notice period" in notice
    history = page[page.index('id="version-2"') :]
    assert f'{effective} <span class="muted small">(once the lab signs)</span>' in history

    signed = client.post(
        reverse("contracts:sign", args=[contract.public_id]), {"terms_hash": shown_hash(page)}, follow=True
    )
    assert f"The rate cut takes effect on {effective} unless the supplier signs sooner." in text(signed)


def test_every_version_is_readable_with_its_diff_against_the_one_before(as_user, lab_owner, active_contract):
    contract = active_contract
    client = as_user(lab_owner)
    amend(client, contract, amend_data(contract.current_version, volume_cap="650", change_summary="More volume"))

    detail = text(client.get(detail_url(contract)))
    history = detail[detail.index('id="version-list"') :]
    assert f'href="/contracts/{contract.public_id}/versions/1/"' in history
    assert f'href="/contracts/{contract.public_id}/versions/2/"' in history
    assert "More volume" in history and "Terms from the award" in history

    v1 = text(client.get(reverse("contracts:version", args=[contract.public_id, 1])))
    assert "v1" in v1 and "In force" in v1
    assert "600 comparisons" in v1
    assert "Signed" in v1[v1.index('id="version-signatures"') :]

    v2 = text(client.get(reverse("contracts:version", args=[contract.public_id, 2])))
    assert "Awaiting signatures" in v2
    assert 'id="version-terms-table-volume_cap" class="is-changed"' in v2
    assert "650 comparisons" in v2 and "600 comparisons" in v2

    assert client.get(reverse("contracts:version", args=[contract.public_id, 3])).status_code == 404
