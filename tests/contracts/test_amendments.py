"""Amendments: new terms as a new version both sides sign again; every version stays readable. A rate
cut the supplier has not signed takes effect only after the notice period. Quality-pay bands,
milestones and labels are validated, naming the entry at fault."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.contracts import services
from apps.contracts.models import DEFAULT_QUALITY_PAY, Contract, ContractVersion
from apps.contracts.tasks import apply_due_amendments, recheck_assignments
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from tests.projects.support import audit_actions, audit_rows, kinds_for

from .support import proposed, sign, sign_both

V = ContractVersion.Status

MILESTONE = {
    "title": "First 300 comparisons",
    "amount": "720.00",
    "due_on": "2031-03-01",
    "acceptance_criteria": "Gold accuracy at least 0.85 on the first 300.",
}


def amend(contract, actor, organization, summary="Change", **changes):
    return services.contract_amend(
        actor=actor, organization=organization, contract=contract, changes=changes, change_summary=summary
    )


def stored() -> tuple:
    return (
        list(ContractVersion.objects.order_by("pk").values_list("pk", "status")),
        AuditEvent.objects.count(),
    )


# --- Proposing and signing ------------------------------------------------------------------------------


def test_an_amendment_is_a_new_version_with_the_changes_and_the_rest_copied(active, lab, lab_admin, vendor_manager):
    v1 = active.current_version

    # when the lab proposes more volume and a bigger budget
    v2 = amend(active, lab_admin, lab, "More volume", volume_cap=800, budget_cap="1920.00")

    # then v2 awaits both signatures, carrying the changes and every other term of v1
    assert (v2.number, v2.status, v2.proposed_by, v2.change_summary) == (2, V.PROPOSED, lab_admin, "More volume")
    assert (v2.volume_cap, v2.budget_cap_minor) == (800, 192_000)
    old, new = services.canonical_terms(v1), services.canonical_terms(v2)
    for name in set(old) - {"volume_cap", "budget_cap_minor"}:
        assert new[name] == old[name], name
    # when it applies is not a term: it follows from the signatures
    assert "effective_from" not in new and v2.effective_from is None
    assert v2.terms_hash == services.terms_hash(new) != v1.terms_hash
    # v1 stays in force until both sign
    active.refresh_from_db()
    assert active.current_version == v1 and v1.status == V.EFFECTIVE
    assert audit_rows(v2).get(action="amendment.proposed").data == {
        "version": 2, "changes": ["budget_cap", "volume_cap"],
    }  # fmt: skip
    assert kinds_for(vendor_manager)[-1] == "amendment.proposed"


def test_both_signatures_put_an_amendment_in_force_and_v1_stays_readable(
    active, lab, lab_admin, vendor, vendor_manager
):
    v1 = active.current_version
    v1_hash = v1.terms_hash
    amend(active, lab_admin, lab, volume_cap=800)

    v2 = sign_both(active, lab_admin, vendor_manager)

    assert v2.status == V.EFFECTIVE and v2.effective_from == timezone.localdate()
    assert active.current_version == v2 and active.status == Contract.Status.ACTIVE
    v1.refresh_from_db()
    assert (v1.status, v1.volume_cap, v1.terms_hash) == (V.SUPERSEDED, 600, v1_hash)
    assert list(active.versions.values_list("number", "status")) == [(1, V.SUPERSEDED), (2, V.EFFECTIVE)]
    assert audit_actions(v1)[-1] == "contractversion.superseded"
    assert kinds_for(vendor_manager)[-1] == "amendment.effective"
    # the activation happened once, at v1
    assert audit_rows(active).filter(action="contract.active").count() == 1


def test_a_new_proposal_withdraws_the_unsigned_one(active, lab, lab_admin, vendor, vendor_manager):
    v2 = amend(active, lab_admin, lab, volume_cap=800)
    sign(active, lab_admin, lab)

    v3 = amend(active, vendor_manager, vendor, "Counter-offer", volume_cap=700)

    v2.refresh_from_db()
    assert v2.status == V.WITHDRAWN and v3.number == 3
    assert audit_rows(v2).get(action="contractversion.withdrawn").reason == "replaced by a new proposal"
    assert proposed(active) == v3 and not v3.signatures.exists()


def test_an_amendment_before_activation_replaces_the_unsigned_v1(contract, lab, lab_admin, vendor_manager):
    v2 = amend(contract, lab_admin, lab, "Smaller", volume_cap=500, unit_rate="2.20")
    assert list(contract.versions.values_list("number", "status")) == [(1, V.WITHDRAWN), (2, V.PROPOSED)]
    # before anything is in force a lower rate is not a rate cut: no notice period
    assert v2.effective_from is None
    sign_both(contract, lab_admin, vendor_manager)
    assert contract.current_version == v2 and contract.status == Contract.Status.ACTIVE


def test_unknown_and_fixed_terms_are_refused(active, lab, lab_admin):
    before = stored()
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, currency="EUR", budget_cap_minor=1, effective_from="2030-01-01", colour="red")
    assert set(exc.value.details) == {"currency", "budget_cap_minor", "effective_from", "colour"}
    assert stored() == before


def test_an_amendment_needs_a_summary(active, lab, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, "  ", volume_cap=700)
    assert exc.value.details == {"change_summary": ["This field is required."]}


def test_invalid_input_stores_nothing_and_keeps_the_pending_proposal(active, lab, lab_admin):
    v2 = amend(active, lab_admin, lab, volume_cap=700)
    before = stored()
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, unit_rate="0", starts_on="not a date", volume_cap="many")
    assert set(exc.value.details) == {"unit_rate", "starts_on", "volume_cap"}
    assert stored() == before
    assert proposed(active) == v2


@pytest.mark.parametrize(
    "changes",
    [
        {"volume_cap": -5},
        {"volume_cap": 0},
        {"volume_cap": 1.7},
        {"review_window_days": -1},
        {"notice_period_days": 99_999},
        {"sla_max_turnaround_days": 0},
        {"sla_min_gold_accuracy": "1.5"},
        {"sla_min_alpha": "-1.5"},
        {"unit_rate": "NaN"},
        {"unit_rate": "1e9"},
        {"unit_rate": "2.12345"},
        {"budget_cap": "-5"},
        {"nda_version": "x" * 41},
        {"nda_version": None},
    ],
    ids=lambda c: next(iter(c.items())).__repr__()[:40],
)
def test_out_of_range_terms_are_refused_naming_the_term(active, lab, lab_admin, changes):
    # a value the columns cannot hold is the caller's error, never a database error
    before = stored()
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, **changes)
    assert list(exc.value.details) == list(changes)
    assert stored() == before


def test_sla_and_windows_may_be_amended(active, lab, lab_admin):
    v2 = amend(
        active, lab_admin, lab, sla_min_gold_accuracy="0.9", sla_min_alpha="-0.1", sla_max_turnaround_days="2",
        review_window_days=3, appeal_window_days=10, notice_period_days=30, nda_version=" nda-v2 ",
    )  # fmt: skip
    assert (v2.sla_min_gold_accuracy, v2.sla_min_alpha, v2.sla_max_turnaround_days) == (
        Decimal("0.9"),
        Decimal("-0.1"),
        2,
    )
    assert (v2.review_window_days, v2.appeal_window_days, v2.notice_period_days) == (3, 10, 30)
    assert v2.nda_version == "nda-v2"


def test_an_end_before_the_start_is_refused(active, lab, lab_admin):
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, ends_on=active.current_version.starts_on - timedelta(days=1))
    assert set(exc.value.details) == {"ends_on"}


def test_only_signers_of_the_two_parties_may_amend(active, lab, lab_member, vendor, expert, outsider):
    with pytest.raises(PermissionDenied):
        amend(active, lab_member, lab, volume_cap=700)
    with pytest.raises(PermissionDenied):
        amend(active, expert, vendor, volume_cap=700)
    with pytest.raises(NotFound):
        amend(active, outsider, outsider.memberships.get().organization, volume_cap=700)
    assert active.versions.count() == 1


# --- Quality pay, milestones, labels --------------------------------------------------------------------


def test_valid_quality_pay_bands_are_stored_normalised(active, lab, lab_admin):
    v2 = amend(active, lab_admin, lab, quality_pay=[[0.9, "1.2"], ["0.8", 1]])
    assert v2.quality_pay == [["0.9", "1.2"], ["0.8", "1"]]


@pytest.mark.parametrize(
    ("bands", "field"),
    [
        ([["0.85", "1.00"], ["0.95", "1.10"]], "quality_pay[1]"),  # not decreasing
        ([["0.95", "1.10"], ["0.95", "1.00"]], "quality_pay[1]"),  # not strictly decreasing
        ([["1.05", "1.10"]], "quality_pay[0]"),  # accuracy above 1
        ([["0", "1.10"]], "quality_pay[0]"),  # accuracy zero
        ([["0.95", "1.10"], ["0.85", "-0.5"]], "quality_pay[1]"),  # negative multiplier
        ([["0.95", "1.10"], ["0.85"]], "quality_pay[1]"),  # not a pair
        ([["0.95", "1.10", "x"]], "quality_pay[0]"),  # not a pair
        ([["0.95", "1.10"], "high"], "quality_pay[1]"),  # not a pair
        ([["0.95", "1.10"], None], "quality_pay[1]"),  # not a pair
        ([["NaN", "1.10"]], "quality_pay[0]"),  # not a number
        ([["0.95", "Infinity"]], "quality_pay[0]"),  # not a number
        ([], "quality_pay"),
        ("0.95:1.10", "quality_pay"),
    ],
)
def test_invalid_quality_pay_is_refused_naming_the_band(active, lab, lab_admin, bands, field):
    before = stored()
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, quality_pay=bands)
    assert list(exc.value.details) == [field]
    assert stored() == before


@pytest.mark.parametrize(
    ("accuracy", "multiplier"),
    [
        ("1", "1.10"),
        ("0.95", "1.10"),
        ("0.9499", "1.00"),
        ("0.85", "1.00"),
        ("0.8499", "0.90"),
        ("0.75", "0.90"),
        ("0.7499", "0"),
        ("0", "0"),
    ],
)
def test_quality_multiplier_on_the_band_edges(accuracy, multiplier):
    # the default bands: >= 0.95 pays 1.10, >= 0.85 1.00, >= 0.75 0.90, below that nothing (rework)
    bands = services.validate_quality_pay(DEFAULT_QUALITY_PAY)
    assert services.quality_multiplier(bands, Decimal(accuracy)) == Decimal(multiplier)


def test_milestones_are_stored_in_order_and_covered_by_the_hash(active, lab, lab_admin, vendor, vendor_manager):
    second = {**MILESTONE, "title": "The rest", "amount": "720", "due_on": date(2031, 4, 1)}
    v2 = amend(active, lab_admin, lab, milestones=[MILESTONE, second])

    rows = list(v2.milestones.values_list("position", "title", "amount_minor", "due_on", "acceptance_criteria"))
    assert rows == [
        (1, "First 300 comparisons", 72_000, date(2031, 3, 1), MILESTONE["acceptance_criteria"]),
        (2, "The rest", 72_000, date(2031, 4, 1), MILESTONE["acceptance_criteria"]),
    ]
    terms = services.canonical_terms(v2)
    assert terms["milestones"][0] == {
        "title": "First 300 comparisons", "amount_minor": 72_000, "due_on": "2031-03-01",
        "acceptance_criteria": MILESTONE["acceptance_criteria"],
    }  # fmt: skip
    assert v2.terms_hash == services.terms_hash(terms)
    # the same terms with another milestone amount hash differently
    terms["milestones"][0]["amount_minor"] = 72_001
    assert services.terms_hash(terms) != v2.terms_hash
    # and once in force, a later amendment carries the milestones over
    sign_both(active, lab_admin, vendor_manager)
    v3 = amend(active, vendor_manager, vendor, volume_cap=650)
    assert services.canonical_terms(v3)["milestones"] == services.canonical_terms(v2)["milestones"]


def test_a_new_proposal_starts_from_the_terms_in_force_not_the_withdrawn_one(active, lab, lab_admin, vendor):
    amend(active, lab_admin, lab, milestones=[MILESTONE], volume_cap=700)
    v3 = amend(active, lab_admin, lab, review_window_days=3)
    assert (v3.volume_cap, v3.review_window_days, list(v3.milestones.all())) == (600, 3, [])


def test_invalid_milestones_are_refused_naming_each_field(active, lab, lab_admin):
    before = stored()
    bad = [
        MILESTONE,
        {"title": " ", "amount": "-5", "due_on": "soon", "acceptance_criteria": ""},
        {"title": "Free", "amount": "0", "due_on": "2031-03-01", "acceptance_criteria": "Ok"},
    ]
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, milestones=bad)
    assert set(exc.value.details) == {
        "milestones[1].title",
        "milestones[1].amount",
        "milestones[1].due_on",
        "milestones[1].acceptance_criteria",
        "milestones[2].amount",
    }
    assert stored() == before


@pytest.mark.parametrize("milestones", ["one", [["First", "720"]]])
def test_milestones_that_are_not_a_list_of_objects_are_refused(active, lab, lab_admin, milestones):
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, milestones=milestones)
    assert all(key.startswith("milestones") for key in exc.value.details)


def test_a_label_set_is_replaced(active, lab, lab_admin):
    v2 = amend(active, lab_admin, lab, label_set=[" better ", "worse", "same"])
    assert v2.label_set == ["better", "worse", "same"]


@pytest.mark.parametrize("labels", [[], ["A", "A"], ["A", " "], None, "AB"])
def test_an_invalid_label_set_is_refused(active, lab, lab_admin, labels):
    with pytest.raises(ValidationFailed) as exc:
        amend(active, lab_admin, lab, label_set=labels)
    assert list(exc.value.details) == ["label_set"]


# --- Rate decreases ---------------------------------------------------------------------------------------


def later(days: int):
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=False)


def test_a_lab_signed_rate_cut_takes_effect_after_the_notice_period(active, lab, lab_admin, vendor_manager):
    v1 = active.current_version
    # when the lab proposes and signs a lower rate, and the supplier does not sign
    v2 = amend(active, lab_admin, lab, "Lower rate", unit_rate="2.10")
    sign(active, lab_admin, lab)

    # then it may take effect no earlier than the notice period (14 days)
    assert v2.effective_from == timezone.localdate() + timedelta(days=14)
    assert services.amendments_apply_due() == 0
    with later(13):
        assert services.amendments_apply_due() == 0
    active.refresh_from_db()
    assert active.current_version == v1

    # once the notice period has passed the periodic task applies it, once
    with later(14):
        assert apply_due_amendments.delay().get() == 1
        assert services.amendments_apply_due() == 0
    active.refresh_from_db()
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert active.current_version == v2 and active.current_version.unit_rate == Decimal("2.1000")
    assert (v2.status, v2.effective_from, v1.status) == (
        V.EFFECTIVE,
        v1.effective_from + timedelta(days=14),
        V.SUPERSEDED,
    )
    assert list(v2.signatures.values_list("side", flat=True)) == ["lab"]
    effective = audit_rows(v2).get(action="contractversion.effective")
    assert effective.actor is None
    assert kinds_for(vendor_manager)[-1] == "amendment.effective"


def test_the_periodic_tasks_are_named_and_scheduled(settings):
    assert (apply_due_amendments.name, recheck_assignments.name) == (
        "contracts.apply_due_amendments", "contracts.recheck_assignments",
    )  # fmt: skip
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"contracts.apply_due_amendments", "contracts.recheck_assignments"} <= scheduled


def test_a_rate_cut_not_signed_by_the_lab_is_not_applied(active, lab, lab_admin):
    amend(active, lab_admin, lab, unit_rate="2.10")
    with later(30):
        assert services.amendments_apply_due() == 0
    assert proposed(active).number == 2


def test_the_suppliers_signature_makes_a_rate_cut_effective_at_once(active, lab, lab_admin, vendor, vendor_manager):
    amend(active, lab_admin, lab, unit_rate="2.10")
    sign(active, lab_admin, lab)

    v2 = sign(active, vendor_manager, vendor)

    assert v2.status == V.EFFECTIVE and v2.effective_from == timezone.localdate()
    active.refresh_from_db()
    assert active.current_version == v2
    with later(14):
        assert services.amendments_apply_due() == 0


def test_a_rate_cut_bundled_with_another_change_needs_the_supplier(active, lab, lab_admin):
    amend(active, lab_admin, lab, unit_rate="2.10", volume_cap=900)
    sign(active, lab_admin, lab)
    with later(30):
        assert services.amendments_apply_due() == 0
    active.refresh_from_db()
    assert active.current_version.number == 1 and proposed(active).number == 2


def test_a_rate_increase_needs_both_signatures(active, lab, lab_admin):
    v2 = amend(active, lab_admin, lab, unit_rate="2.60")
    sign(active, lab_admin, lab)
    assert v2.effective_from is None
    with later(30):
        assert services.amendments_apply_due() == 0
    assert proposed(active) == v2


def test_a_due_rate_cut_on_a_terminated_contract_is_not_applied(active, lab, lab_admin):
    amend(active, lab_admin, lab, unit_rate="2.10")
    sign(active, lab_admin, lab)
    services.contract_terminate(actor=lab_admin, organization=lab, contract=active, reason="Ended")
    with later(14):
        assert services.amendments_apply_due() == 0


def test_signing_a_version_the_due_task_applied_is_refused(active, lab, lab_admin, vendor, vendor_manager):
    amend(active, lab_admin, lab, unit_rate="2.10")
    shown = proposed(active).terms_hash
    sign(active, lab_admin, lab)
    with later(14):
        services.amendments_apply_due()
    with pytest.raises(DomainError) as exc:
        sign(active, vendor_manager, vendor, shown_hash=shown)
    assert exc.value.code == "nothing_to_sign"


def test_quality_multiplier_refuses_a_float_accuracy():
    with pytest.raises(TypeError):
        services.quality_multiplier([["0.95", "1.10"]], 0.95)
