"""Quality pages on really scored data: who sees what, names never shown to labs, the recompute
button and its progress fragment, no inline script or style."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from apps.accounts.roles import OrgKind, Role
from apps.quality import services
from apps.quality.models import AuditFlag, ScoringRun
from tests.factories import AssignmentFactory, ContractFactory, OrganizationFactory, member

from .conftest import gold_rows, make_batch, set_gold

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def html(response) -> str:
    return response.content.decode()


def assert_csp_clean(page: str) -> None:
    assert INLINE_SCRIPT.search(page) is None, "inline <script>"
    assert "<style" not in page, "inline <style>"
    assert " style=" not in page, "inline style attribute"
    assert INLINE_HANDLER.search(page) is None, "inline event handler"
    assert "javascript:" not in page


def _panel(annotators, items, prefix="it"):
    """Every annotator judges every item; the last annotator always picks the first shown option
    (A when shown first, B otherwise), the others agree on A/B alternately."""
    rows = []
    for i in range(items):
        for k, a in enumerate(annotators):
            if k == len(annotators) - 1:
                label, order = ("A", 0) if i % 2 == 0 else ("B", 1)
            else:
                label, order = ("A" if i % 2 == 0 else "B"), i % 2
            rows.append((f"{prefix}-{i}", a, label, order, 20 + 5 * k))
    return rows


@pytest.fixture
def scored(contract, annotators):
    """One batch with panel items and gold (the persona expert 27 of 30 right), fully scored."""
    g, gold = gold_rows(annotators[0], 27, 3)
    g2, gold2 = gold_rows(annotators[1], 20, 10, prefix="h")
    make_batch(contract, _panel(annotators, 40) + g + g2)
    set_gold(contract.project, {**gold, **gold2})
    run = services.score_contract(contract=contract)
    assert run.status == ScoringRun.Status.SUCCEEDED
    return run


def _url(name, *args):
    return reverse(f"quality:{name}", args=args)


# --- The contract's quality page -------------------------------------------------------------------------------


def test_the_lab_sees_the_contract_quality_page_with_handles_only(client, scored, contract, annotators, lab_member):
    client.force_login(lab_member)
    response = client.get(_url("contract", contract.public_id))
    assert response.status_code == 200
    page = html(response)
    assert_csp_clean(page)
    for section in ("figure-gold", "figure-agreement", "figure-alpha", "figure-kappa", "sla", "multiplier",
                    "over-time", "expert-table", "batch-table", "bias-audits", "consensus-export"):  # fmt: skip
        assert f'id="{section}"' in page, section
    assert "27 of 30" not in page  # the contract's figures, not one expert's
    assert "47 of 60 gold answers right" in page
    for who in annotators:
        assert who.expert_profile.handle in page
        assert who.full_name not in page and who.email not in page
    # The charts are inline SVG with their own title and description, and parse as XML.
    svgs = re.findall(r"<svg xmlns=.*?</svg>", page, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.find("{http://www.w3.org/2000/svg}desc").text
    export = f"/api/v1/contracts/{contract.public_id}/consensus/"
    assert f'href="{export}"' in page
    assert client.get(export).status_code == 200  # the link works with the browser session


def test_the_supplier_sees_its_experts_by_name(client, scored, contract, annotators, vendor_manager):
    client.force_login(vendor_manager)
    response = client.get(_url("contract", contract.public_id))
    assert response.status_code == 200
    page = html(response)
    assert_csp_clean(page)
    assert annotators[1].full_name in page


def test_operations_see_every_contract(client, scored, contract, operations):
    client.force_login(operations)
    assert client.get(_url("contract", contract.public_id)).status_code == 200


def test_others_get_404(client, scored, contract, outsider, expert):
    client.force_login(outsider)
    assert client.get(_url("contract", contract.public_id)).status_code == 404
    client.force_login(expert)  # a vendor's expert reads their own scores, not the contract's
    assert client.get(_url("contract", contract.public_id)).status_code == 404


def test_another_labs_contract_is_404(client, scored, lab_admin, vendor):
    other_lab = OrganizationFactory(name="Rival Lab", slug="rival", kind=OrgKind.LAB)
    other = ContractFactory(lab=other_lab, supplier=vendor)
    client.force_login(lab_admin)
    assert client.get(_url("contract", other.public_id)).status_code == 404


def test_the_page_before_any_scoring_says_so(client, contract, lab_admin):
    client.force_login(lab_admin)
    page = html(client.get(_url("contract", contract.public_id)))
    assert "Not scored yet" in page
    assert 'id="no-experts"' in page and "No gold accuracy measured yet." in page
    assert_csp_clean(page)


def test_bias_audit_table_names_kind_subject_and_test(client, scored, contract, lab_admin):
    client.force_login(lab_admin)
    page = html(client.get(_url("contract", contract.public_id)))
    flags = list(AuditFlag.objects.filter(run=scored))
    assert flags, "the full run audits the contract"
    for flag in flags:
        assert flag.test in page.replace("&#x27;", "'")


# --- Recompute -------------------------------------------------------------------------------------------------


def test_recompute_starts_a_run_and_the_fragment_polls_it(
    client, scored, contract, lab_admin, django_capture_on_commit_callbacks
):
    client.force_login(lab_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_url("recompute", contract.public_id), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert len(callbacks) == 1  # the Celery task, after commit
    run = ScoringRun.objects.get(contract=contract, status=ScoringRun.Status.RUNNING)
    fragment = html(response)
    assert 'hx-trigger="every 2s"' in fragment and f"?run={run.public_id}" in fragment
    assert_csp_clean(fragment)

    poll = client.get(_url("run_status", contract.public_id), {"run": str(run.public_id)}, HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and "HX-Refresh" not in poll
    assert "every 2s" in html(poll)

    services.score_contract(contract=contract, run=run)  # the task runs
    done = client.get(_url("run_status", contract.public_id), {"run": str(run.public_id)}, HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    assert "every 2s" not in html(done)


def test_recompute_without_htmx_redirects_to_the_page(client, scored, contract, vendor_manager):
    client.force_login(vendor_manager)
    response = client.post(_url("recompute", contract.public_id))
    assert response.status_code == 302
    assert response["Location"].startswith(_url("contract", contract.public_id))


def test_recompute_is_refused_outside_the_contract(client, scored, contract, outsider, expert):
    for who in (outsider, expert):
        client.force_login(who)
        assert client.post(_url("recompute", contract.public_id)).status_code == 404
        assert client.get(_url("run_status", contract.public_id)).status_code in (403, 404)
    assert not ScoringRun.objects.filter(contract=contract, trigger=ScoringRun.Trigger.USER).exists()


def test_recompute_needs_post_and_csrf(scored, contract, lab_admin):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(lab_admin)
    assert strict.get(_url("recompute", contract.public_id)).status_code == 405
    assert strict.post(_url("recompute", contract.public_id)).status_code == 403
    assert not ScoringRun.objects.filter(contract=contract, trigger=ScoringRun.Trigger.USER).exists()


# --- Vendor benchmark ------------------------------------------------------------------------------------------


def test_the_lab_sees_the_vendor_benchmark_with_handles(client, scored, contract, annotators, lab_member):
    client.force_login(lab_member)
    response = client.get(_url("vendor_benchmark", contract.project.public_id))
    assert response.status_code == 200
    page = html(response)
    assert_csp_clean(page)
    assert "Northwind Annotation" in page
    assert 'class="chart qchart--comparison"' in page
    assert annotators[0].expert_profile.handle in page
    for who in annotators:
        assert who.full_name not in page and who.email not in page


def test_vendor_benchmark_ranks_ties_as_ties(client, scored, contract, project, lab, lab_admin):
    rival = OrganizationFactory(name="Southwind Data", slug="southwind", kind=OrgKind.VENDOR)
    rival_owner = member(rival, Role.OWNER, email="owner@southwind.test")
    second = ContractFactory(project=project, lab=lab, supplier=rival)
    people = [AssignmentFactory(contract=second).expert for _ in range(2)]
    g, gold = gold_rows(people[0], 46, 14, prefix="s")  # 46/60 = the first supplier's 47/60 within noise
    make_batch(second, g + [(item, people[1], "A") for item in gold])
    set_gold(project, gold)
    services.score_contract(contract=second)
    client.force_login(lab_admin)
    page = html(client.get(_url("vendor_benchmark", project.public_id)))
    assert "Southwind Data" in page and "Northwind Annotation" in page
    assert page.count('data-rank="1="') == 2

    # a supplier sees its own row only, and its experts by name
    client.force_login(rival_owner)
    own = html(client.get(_url("vendor_benchmark", project.public_id)))
    assert "Southwind Data" in own and "Northwind Annotation" not in own
    assert people[0].full_name in own


def test_the_vendor_benchmark_is_404_for_another_lab(client, scored, project, outsider):
    client.force_login(outsider)
    assert client.get(_url("vendor_benchmark", project.public_id)).status_code == 404


# --- Team, me, audits ----------------------------------------------------------------------------------------


def test_the_vendor_team_page_lists_its_experts(client, scored, annotators, vendor_manager):
    client.force_login(vendor_manager)
    response = client.get(_url("team"))
    assert response.status_code == 200
    page = html(response)
    assert_csp_clean(page)
    for who in annotators:
        assert who.full_name in page
    assert 'class="chart qchart--scatter"' in page


def test_a_lab_has_no_team_page(client, scored, lab_admin):
    client.force_login(lab_admin)
    assert client.get(_url("team")).status_code == 404


def test_another_vendor_sees_none_of_this_team(client, scored, annotators):
    rival = OrganizationFactory(name="Southwind Data", slug="southwind", kind=OrgKind.VENDOR)
    client.force_login(member(rival, Role.OWNER, email="owner@southwind.test"))
    page = html(client.get(_url("team")))
    assert 'id="no-team-scores"' in page
    assert all(who.full_name not in page for who in annotators)


def test_the_expert_sees_their_own_scores_explained(client, scored, contract, expert, annotators):
    client.force_login(expert)
    response = client.get(_url("me"))
    assert response.status_code == 200
    page = html(response)
    assert_csp_clean(page)
    assert "Of the 30 items whose answer the lab knows, you matched 27: 90.0%." in page
    assert "95% interval" in page and "leave-one-out" in page
    assert contract.project.title in page
    assert annotators[1].full_name not in page  # nobody else's scores


def test_an_expert_without_scores_sees_an_empty_page(client, scored, outsider):
    client.force_login(outsider)
    page = html(client.get(_url("me")))
    assert 'id="no-scores"' in page


def test_the_audit_page_filters_by_kind_and_contract(client, scored, contract, annotators, lab_admin):
    client.force_login(lab_admin)
    everything = html(client.get(_url("audits"), {"show": "all"}))
    assert_csp_clean(everything)
    assert "Position bias" in everything
    assert annotators[0].expert_profile.handle in everything
    assert all(who.full_name not in everything and who.email not in everything for who in annotators)
    only = html(client.get(_url("audits"), {"show": "all", "kind": "speeding", "contract": str(contract.public_id)}))
    table = only.split('id="audit-list"', 1)[1] if 'id="audit-list"' in only else ""
    assert "Position bias</td>" not in table
    bogus = client.get(_url("audits"), {"kind": "nonsense", "contract": "not-a-uuid"})
    assert bogus.status_code == 200


def test_the_audit_page_never_shows_another_tenants_flags(client, scored, outsider):
    client.force_login(outsider)
    page = html(client.get(_url("audits"), {"show": "all"}))
    assert 'id="audit-list"' not in page


def test_a_vendor_expert_has_no_audit_page(client, scored, expert):
    client.force_login(expert)
    assert client.get(_url("audits")).status_code == 404


# --- Navigation and dashboards ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "label", "url_name"),
    [
        ("lab_admin", "Quality audits", "audits"),
        ("vendor_manager", "Team quality", "team"),
        ("expert", "My quality", "me"),
        ("operations", "Quality audits", "audits"),
    ],
)
def test_navigation_links_for_each_role(client, request, persona, label, url_name):
    client.force_login(request.getfixturevalue(persona))
    page = html(client.get(reverse("home")))
    assert f'href="{_url(url_name)}"' in page and label in page


@pytest.mark.parametrize("persona", ["lab_admin", "vendor_manager", "expert", "operations"])
def test_each_dashboard_has_a_quality_card(client, request, scored, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = html(response)
    assert 'id="quality-card"' in page
    assert_csp_clean(page)


def test_the_lab_dashboard_card_shows_the_headline_figure(client, scored, contract, lab_admin):
    client.force_login(lab_admin)
    page = html(client.get(reverse("home")))
    card = page.split('id="quality-card"', 1)[1]
    assert "78.3%" in card  # 47 of 60 gold answers
    assert _url("contract", contract.public_id) in card


def test_the_contract_page_links_to_quality(client, contract, lab_admin):
    client.force_login(lab_admin)
    page = html(client.get(reverse("contracts:detail", args=[contract.public_id])))
    assert _url("contract", contract.public_id) in page


def test_the_project_page_links_to_the_vendor_benchmark(client, scored, project, lab_admin):
    client.force_login(lab_admin)
    page = html(client.get(reverse("bidding:project_detail", args=[project.public_id])))
    assert _url("vendor_benchmark", project.public_id) in page


def test_the_independent_experts_dashboard_has_the_quality_card(client, db):
    from apps.accounts import services as account_services
    from tests.factories import UserFactory

    solo = UserFactory(email="solo@expert.test", full_name="Dr Ada Solo")
    account_services.organization_create(actor=solo, name="Dr Ada Solo", kind=OrgKind.INDIVIDUAL)
    client.force_login(solo)
    page = html(client.get(reverse("home")))
    assert 'id="quality-card"' in page and 'id="no-quality-mine"' in page
    assert f'href="{_url("me")}"' in page
