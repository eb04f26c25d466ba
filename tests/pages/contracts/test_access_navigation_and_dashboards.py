"""Who reaches contract pages (outsiders find nothing), the navigation and dashboards that lead
there, and no external URL on any contract page."""

import uuid

import pytest
from django.urls import reverse

from apps.contracts.models import Contract
from tests.pages.conftest import text
from tests.pages.contracts.conftest import detail_url, make_assignable
from tests.pages.test_no_external_urls import external_urls

pytestmark = pytest.mark.django_db


def every_contract_url(contract) -> list[tuple[str, str]]:
    pid, other = contract.public_id, uuid.uuid4()
    gets = [
        reverse("contracts:detail", args=[pid]),
        reverse("contracts:version", args=[pid, 1]),
        reverse("contracts:nda", args=[pid]),
    ]
    posts = [
        reverse(f"contracts:{name}", args=[pid])
        for name in ("sign", "amend", "pause", "resume", "complete", "terminate", "nda", "assign")
    ]
    posts += [
        reverse("contracts:assignment_end", args=[pid, other]),
        reverse("contracts:assignment_resume", args=[pid, other]),
    ]
    return [("get", url) for url in gets] + [("post", url) for url in posts]


def test_an_outsider_gets_404_on_every_contract_page(as_user, outsider, active_contract):
    client = as_user(outsider)
    for method, url in every_contract_url(active_contract):
        response = getattr(client, method)(url, {"terms_hash": "0" * 64, "reason": "x"} if method == "post" else None)
        assert response.status_code == 404, (method, url)
    assert active_contract.project.title not in text(client.get(reverse("contracts:list")))
    assert Contract.objects.get(pk=active_contract.pk).status == Contract.Status.ACTIVE


def test_a_vendor_expert_off_the_roster_finds_no_contract(as_user, expert, active_contract):
    """``expert`` is a member of the vendor (role expert) but not on its roster."""
    client = as_user(expert)
    assert client.get(detail_url(active_contract)).status_code == 404
    assert client.get(reverse("contracts:nda", args=[active_contract.public_id])).status_code == 404
    assert client.get(reverse("contracts:list")).status_code == 302  # to their own assignments


def test_navigation_leads_parties_to_contracts_and_experts_to_their_assignments(
    as_user, lab_member, vendor_manager, expert, independent
):
    def nav(user):
        page = text(as_user(user).get(reverse("home")))
        return page[page.index('<nav class="mainnav"') : page.index("</nav>")]

    assert ">Contracts<" in nav(lab_member)
    assert ">Contracts<" in nav(vendor_manager)
    assert ">Contracts<" in nav(independent["user"])
    expert_nav = nav(expert)
    assert ">Assignments<" in expert_nav and ">Contracts<" not in expert_nav


def test_dashboards_show_contracts_awaiting_signature_and_active_ones(as_user, lab_owner, vendor_manager, contract):
    lab = text(as_user(lab_owner).get(reverse("home")))
    awaiting = lab[lab.index('id="contracts-awaiting"') :]
    assert contract.project.title in awaiting[: awaiting.index("</ul>")]
    assert "1 contract awaiting your signature" in lab

    supplier = text(as_user(vendor_manager).get(reverse("home")))
    assert "1 contract awaiting your signature" in supplier
    assert "Acme AI Lab" in supplier[supplier.index('id="contracts-awaiting"') :]


def test_the_roster_experts_dashboard_lists_the_nda_to_accept_then_the_assignment(
    as_user, vendor_manager, roster_expert, active_contract
):
    page = text(as_user(roster_expert).get(reverse("home")))
    ndas = page[page.index('id="ndas-to-accept"') :]
    assert reverse("contracts:nda", args=[active_contract.public_id]) in ndas[: ndas.index("</div>")]
    assert "No assignments yet" not in page

    make_assignable(active_contract, roster_expert)
    as_user(vendor_manager).post(
        reverse("contracts:assign", args=[active_contract.public_id]), {"expert": str(roster_expert.public_id)}
    )
    page = text(as_user(roster_expert).get(reverse("home")))
    assert 'id="ndas-to-accept"' not in page
    work = page[page.index('id="work-list"') :]
    assert '<span class="badge badge--active">Active</span>' in work[: work.index("</ul>")]


def test_no_contract_page_has_an_external_url(as_user, lab_owner, vendor_manager, roster_expert, active_contract):
    pid = active_contract.public_id
    for user, urls in (
        (
            lab_owner,
            [reverse("contracts:list"), detail_url(active_contract), reverse("contracts:version", args=[pid, 1])],
        ),
        (vendor_manager, [detail_url(active_contract), reverse("contracts:nda", args=[pid])]),
        (roster_expert, [detail_url(active_contract), reverse("contracts:assignments"), reverse("home")]),
    ):
        client = as_user(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert external_urls(text(response)) == [], url
            assert "style=" not in text(response), url  # strict CSP: no inline styles
