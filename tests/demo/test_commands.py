"""The management commands: seed_demo (the demo world of `make run`) and create_api_key."""

from datetime import timedelta
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.accounts.models import ApiKey, Invitation, Membership, Organization, User
from apps.accounts.roles import OrgKind, Role, StaffRole
from apps.accounts.services import api_key_authenticate
from apps.assessments.calibration import calibration_report, pilot_accuracy_by_supplier
from apps.assessments.models import Attempt, CalibrationRound, GradingTask, Item, Qualification
from apps.assessments.models import Test as AssessmentTest
from apps.assessments.selectors import attempt_taker_view
from apps.bidding.models import Award, Bid, BidRevision, Question
from apps.contracts.models import Assignment, Contract, ContractVersion, NdaAcceptance, Signature
from apps.core.models import AuditEvent
from apps.experts.models import Credential, Domain
from apps.projects.models import GuidelineAcknowledgement, Project
from apps.work import datasheet
from apps.work.models import Appeal, GoldItem, Judgment, WorkBatch
from apps.work.selectors import appeal_queue, judgment_label

DEMO_PASSWORD = "demo-password-2026"
DEMO_LOGINS = [
    "lab@demo.test",
    "labadmin@demo.test",
    "vendor@demo.test",
    "manager@demo.test",
    "expert1@demo.test",
    "expert2@demo.test",
    "expert3@demo.test",
    "northwind@demo.test",
    "northwind1@demo.test",
    "northwind2@demo.test",
    "finance@demo.test",
    "ops@demo.test",
]


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    models = (
        User, EmailAddress, Organization, Membership, Invitation, ApiKey, AuditEvent, Domain,
        Project, Bid, BidRevision, Question, Award, Credential, Contract, ContractVersion, Signature,
        NdaAcceptance, GuidelineAcknowledgement, Assignment, GoldItem, WorkBatch, Judgment, Appeal,
        AssessmentTest, Item, Attempt, GradingTask, Qualification, CalibrationRound,
    )  # fmt: skip
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def seeded(db):
    return run("seed_demo")


# --- seed_demo -----------------------------------------------------------------------------------------


def test_seed_demo_creates_the_demo_world(seeded):
    assert set(User.objects.values_list("email", flat=True)) == set(DEMO_LOGINS)
    assert Domain.objects.filter(slug="radiology", parent__slug="medicine").exists()

    lab = Organization.objects.get(name="Helix AI Lab")
    vendor = Organization.objects.get(name="Meridian Data Services")
    assert (lab.kind, vendor.kind) == (OrgKind.LAB, OrgKind.VENDOR)
    assert dict(lab.memberships.values_list("user__email", "role")) == {
        "lab@demo.test": Role.OWNER,
        "labadmin@demo.test": Role.ADMIN,
    }
    assert dict(vendor.memberships.values_list("user__email", "role")) == {
        "vendor@demo.test": Role.OWNER,
        "manager@demo.test": Role.MANAGER,
        "expert1@demo.test": Role.EXPERT,
        "expert2@demo.test": Role.EXPERT,
    }
    (independent,) = Membership.objects.filter(user__email="expert3@demo.test").select_related("organization")
    assert (independent.organization.kind, independent.role) == (OrgKind.INDIVIDUAL, Role.OWNER)
    assert independent.organization.memberships.count() == 1
    assert User.objects.get(email="finance@demo.test").staff_role == StaffRole.FINANCE
    assert User.objects.get(email="ops@demo.test").staff_role == StaffRole.OPERATIONS
    assert not Membership.objects.filter(user__staff_role__in=[StaffRole.FINANCE, StaffRole.OPERATIONS]).exists()
    assert AuditEvent.objects.filter(action="organization.created").count() == 4
    northwind = Organization.objects.get(name="Northwind Annotation")
    assert northwind.kind == OrgKind.VENDOR
    assert dict(northwind.memberships.values_list("user__email", "role")) == {
        "northwind@demo.test": Role.OWNER,
        "northwind1@demo.test": Role.EXPERT,
        "northwind2@demo.test": Role.EXPERT,
    }


def test_seed_demo_gives_the_lab_a_draft_an_open_and_an_awarded_project_in_progress(seeded):
    lab = Organization.objects.get(name="Helix AI Lab")
    vendor = Organization.objects.get(name="Meridian Data Services")
    independent = Organization.objects.get(kind=OrgKind.INDIVIDUAL, memberships__user__email="expert3@demo.test")
    by_title = {p.title: p for p in Project.objects.filter(lab=lab)}
    # The awarded project moved on to in_progress when its first contract became active.
    assert {p.status for p in by_title.values()} == {"draft", "open", "in_progress"}

    draft = by_title["ECG interpretation rubrics (draft)"]
    assert draft.status == "draft" and draft.volume is None and not draft.guideline_versions.exists()

    open_ = by_title["Radiology report preference pairs"]
    assert (open_.status, open_.visibility) == ("open", "public")
    assert open_.bid_deadline > timezone.now()
    assert list(open_.guideline_versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    questions = {(q.asker_organization, q.status, q.visibility) for q in open_.questions.all()}
    assert questions == {(vendor, "answered", "public"), (independent, "open", "private")}
    bids = {b.bidder: b for b in open_.bids.all()}
    assert set(bids) == {vendor, independent} and {b.status for b in bids.values()} == {"submitted"}
    vendor_team = bids[vendor].revisions.get().team.values_list("email", flat=True)
    assert sorted(vendor_team) == ["expert1@demo.test", "expert2@demo.test"]
    assert list(bids[independent].revisions.get().team.values_list("email", flat=True)) == ["expert3@demo.test"]

    awarded = by_title["Red-teaming a contract-drafting assistant"]
    assert awarded.status == "in_progress" and awarded.bid_deadline < timezone.now()
    assert awarded.starts_on < timezone.localdate() < awarded.ends_on
    history = AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(Project), target_id=awarded.pk)
    assert list(history.order_by("id").values_list("action", flat=True)) == [
        "project.created", "project.open", "project.bidding_closed", "project.awarded", "project.in_progress",
        "gold.uploaded",
    ]  # fmt: skip
    split = {a.bid.bidder: (a.volume, a.amount_minor) for a in awarded.award.allocations.select_related("bid")}
    assert split == {vendor: (700, 2_975_000), independent: (500, 2_400_000)}
    assert awarded.award.total_minor == 5_375_000
    assert set(awarded.bids.values_list("status", flat=True)) == {"awarded"}


def test_seed_demo_signs_the_vendors_contract_and_leaves_the_experts_awaiting(seeded):
    awarded = Project.objects.get(title="Red-teaming a contract-drafting assistant")
    vendor = Organization.objects.get(name="Meridian Data Services")
    contracts = {c.supplier.kind: c for c in awarded.contracts.select_related("supplier", "current_version")}
    assert set(contracts) == {OrgKind.VENDOR, OrgKind.INDIVIDUAL}

    active = contracts[OrgKind.VENDOR]
    assert (active.supplier, active.status) == (vendor, Contract.Status.ACTIVE)
    terms = active.current_version
    assert (terms.number, terms.status) == (1, ContractVersion.Status.EFFECTIVE)
    signed = {(s.side, s.signed_by.email, s.terms_hash) for s in terms.signatures.select_related("signed_by")}
    assert signed == {("lab", "lab@demo.test", terms.terms_hash), ("supplier", "manager@demo.test", terms.terms_hash)}
    assert terms.starts_on < timezone.localdate()  # the delivered weeks fall within the contract
    assignments = active.assignments.select_related("expert", "assigned_by")
    assert {(a.expert.email, a.status, a.assigned_by.email) for a in assignments} == {
        ("expert1@demo.test", "active", "manager@demo.test"),
        ("expert2@demo.test", "active", "manager@demo.test"),
    }
    latest = awarded.guideline_versions.order_by("-number").first()
    for assignment in assignments:
        assert NdaAcceptance.objects.filter(contract=active, user=assignment.expert, nda_version=terms.nda_version)
        assert GuidelineAcknowledgement.objects.filter(version=latest, user=assignment.expert, organization=vendor)
        for kind in awarded.required_credential_types:
            assert Credential.objects.filter(profile__user=assignment.expert, type=kind, status="verified").exists()

    pending = contracts[OrgKind.INDIVIDUAL]
    assert (pending.status, pending.current_version) == (Contract.Status.PENDING_SIGNATURE, None)
    (proposed,) = pending.versions.all()
    assert proposed.status == ContractVersion.Status.PROPOSED and not proposed.signatures.exists()
    assert not pending.assignments.exists()


def test_seed_demo_delivers_an_accepted_and_an_appealed_batch(seeded):
    awarded = Project.objects.get(title="Red-teaming a contract-drafting assistant")
    contract = awarded.contracts.get(supplier__name="Meridian Data Services")
    labels = contract.current_version.label_set
    gold = dict(GoldItem.objects.filter(project=awarded).values_list("item_id", "answer"))
    assert len(gold) >= 3 and set(gold.values()) <= set(labels)

    accepted, appealed = contract.batches.order_by("period_start")
    for batch in (accepted, appealed):
        judgments = Judgment.objects.filter(batch=batch).select_related("annotator")
        assert batch.judgment_count == judgments.count() == 40 and batch.unit_count == 20
        assert {j.annotator.email for j in judgments} == {"expert1@demo.test", "expert2@demo.test"}
        assert len({j.item_id for j in judgments}) == 20
        assert {j.item_id for j in judgments} & set(gold)  # some gold items among them
        assert {judgment_label(batch, j.label) for j in judgments} <= set(labels)
        assert batch.period_start >= contract.current_version.starts_on and batch.period_end < timezone.localdate()

    assert accepted.status == WorkBatch.Status.ACCEPTED and accepted.accepted_units == 20
    assert accepted.reviewed_by.email == "labadmin@demo.test" and not accepted.auto_accepted
    lab_owner = User.objects.get(email="lab@demo.test")
    sheet = datasheet.datasheet_get(actor=lab_owner, organization=contract.lab, public_id=accepted.public_id)
    assert sheet.summary["annotator_count"] == 2 and sheet.summary["annotators_without_verified_credential"] == 0
    assert sheet.summary["guideline_versions_acknowledged"] == [{"version": 1, "judgments": 40}]

    assert appealed.status == WorkBatch.Status.APPEALED
    assert appealed.rejection_reason == "low_gold_accuracy" and "Gold accuracy 3 of 6" in appealed.review_evidence
    appeal = appealed.appeal
    assert (appeal.status, appeal.appealed_by.email) == (Appeal.Status.OPEN, "manager@demo.test") and appeal.reason
    ops = User.objects.get(email="ops@demo.test")
    assert list(appeal_queue(actor=ops)) == [appeal]


def test_seed_demo_publishes_a_platform_radiology_test_and_the_labs_tests(seeded):
    lab = Organization.objects.get(name="Helix AI Lab")
    tests = {t.title: t for t in AssessmentTest.objects.select_related("owner", "domain", "created_by")}
    assert {(t.owner, t.kind, t.status) for t in tests.values()} == {
        (None, AssessmentTest.Kind.QUALIFICATION, AssessmentTest.Status.PUBLISHED),
        (lab, AssessmentTest.Kind.QUALIFICATION, AssessmentTest.Status.PUBLISHED),
        (lab, AssessmentTest.Kind.CALIBRATION, AssessmentTest.Status.PUBLISHED),
    }
    radiology = tests["Diagnostic radiology reading"]
    assert (radiology.owner, radiology.domain.slug, radiology.created_by.email) == (None, "radiology", "ops@demo.test")
    assert (radiology.items_per_attempt, radiology.pass_rule, str(radiology.pass_threshold)) == (
        8,
        AssessmentTest.PassRule.WILSON_LOWER,
        "0.6000",
    )
    items = list(radiology.items.all())
    assert len(items) == 12 and {i.type for i in items} == set(Item.Type.values)
    assert any(i.type == Item.Type.AB_PREFERENCE and i.allow_tie and i.ask_strength for i in items)
    assert any(i.type == Item.Type.LIKERT and i.likert_points == 5 for i in items)
    assert any(i.type == Item.Type.NUMERIC and i.numeric_tolerance for i in items)
    assert [i.rubric != [] for i in items if i.type == Item.Type.FREE_TEXT] == [True]

    python = tests["Python code review"]
    assert python.owner == lab and python.domain.slug == "python" and python.items.count() == 8
    calibration_test = tests["Radiology report preferences: calibration set"]
    assert calibration_test.items.count() == 6
    assert not calibration_test.items.filter(answer_key__isnull=True).exists()


def test_seed_demo_leaves_attempts_in_every_state(seeded):
    radiology = AssessmentTest.objects.get(title="Diagnostic radiology reading")
    by_expert = {
        a.expert.email: a for a in Attempt.objects.filter(calibration_round=None).select_related("expert", "test")
    }
    assert {email: (a.test.title, a.status, a.passed) for email, a in by_expert.items()} == {
        "expert1@demo.test": (radiology.title, Attempt.Status.GRADED, True),
        "expert2@demo.test": (radiology.title, Attempt.Status.GRADED, False),
        "northwind1@demo.test": (radiology.title, Attempt.Status.GRADING, None),
        "expert3@demo.test": ("Python code review", Attempt.Status.IN_PROGRESS, None),
    }
    passed = by_expert["expert1@demo.test"]
    assert passed.score == 1 and passed.wilson_lower >= radiology.pass_threshold
    (qualification,) = Qualification.objects.all()
    assert (qualification.expert.email, qualification.test, qualification.attempt) == (
        "expert1@demo.test",
        radiology,
        passed,
    )
    assert qualification.status == Qualification.Status.ACTIVE and qualification.expires_at > timezone.now()
    assert by_expert["expert2@demo.test"].wilson_lower < radiology.pass_threshold

    (waiting,) = GradingTask.objects.filter(status=GradingTask.Status.OPEN)
    assert waiting.attempt_item.attempt == by_expert["northwind1@demo.test"] and waiting.grader is None
    assert waiting.attempt_item.item.type == Item.Type.FREE_TEXT and waiting.attempt_item.answer["text"]
    assert set(GradingTask.objects.exclude(pk=waiting.pk).values_list("grader__email", flat=True)) <= {"ops@demo.test"}

    in_progress = attempt_taker_view(by_expert["expert3@demo.test"])
    assert len(in_progress) == 6 and sum(row["answer"] is not None for row in in_progress) == 3
    assert by_expert["expert3@demo.test"].deadline_at > timezone.now()


def test_seed_demo_closes_a_calibration_round_across_two_vendors(seeded):
    lab = Organization.objects.get(name="Helix AI Lab")
    (round_,) = CalibrationRound.objects.all()
    assert (round_.lab, round_.status, round_.test.kind) == (
        lab,
        CalibrationRound.Status.CLOSED,
        AssessmentTest.Kind.CALIBRATION,
    )
    assert round_.pilot_project.title == "Radiology report preference pairs"
    assert set(round_.suppliers.values_list("name", flat=True)) == {"Meridian Data Services", "Northwind Annotation"}
    attempts = round_.attempts.select_related("expert")
    assert {(a.expert.email, a.status) for a in attempts} == {
        (email, Attempt.Status.GRADED)
        for email in ("expert1@demo.test", "expert2@demo.test", "northwind1@demo.test", "northwind2@demo.test")
    }

    report = calibration_report(actor=User.objects.get(email="labadmin@demo.test"), round=round_)
    assert [row.name for row in report.suppliers] == ["Meridian Data Services", "Northwind Annotation"]
    assert {row.gold_items for row in report.suppliers} == {12}
    accuracy = pilot_accuracy_by_supplier(round_.pilot_project)
    assert {Organization.objects.get(pk=pk).name: str(v) for pk, v in accuracy.items()} == {
        "Meridian Data Services": "0.9167",
        "Northwind Annotation": "0.6667",
    }


def test_seed_demo_prints_the_logins(seeded):
    assert DEMO_PASSWORD in seeded
    for email in DEMO_LOGINS:
        assert email in seeded


def test_seed_demo_twice_changes_nothing(seeded):
    before = counts()
    password_hash = User.objects.get(email="lab@demo.test").password

    output = run("seed_demo")

    assert counts() == before
    assert "nothing changed" in output
    assert User.objects.get(email="lab@demo.test").password == password_hash


def test_seed_demo_completes_a_delivery_cut_short(seeded):
    # The delivery runs outside the seeding transaction, step by step: a run stopped before the
    # second batch leaves the rest to the next run.
    WorkBatch.objects.get(client_batch_key="meridian-week-2").delete()

    output = run("seed_demo")

    assert "meridian-week-2 appealed" in output and "meridian-week-1" not in output
    assert WorkBatch.objects.get(client_batch_key="meridian-week-2").appeal.status == Appeal.Status.OPEN
    assert Judgment.objects.count() == 80


def test_seed_demo_leaves_a_changed_password_alone(seeded):
    user = User.objects.get(email="vendor@demo.test")
    user.set_password("a-better-secret-2026")
    user.save()

    run("seed_demo")

    assert User.objects.get(pk=user.pk).check_password("a-better-secret-2026")


def test_seed_demo_completes_a_partly_seeded_database(db):
    # Someone already signed up with a demo address and nothing else exists.
    User.objects.create_user(email="expert1@demo.test", password="their-own-password-1")

    run("seed_demo")

    assert Membership.objects.filter(user__email="expert1@demo.test", role=Role.EXPERT).count() == 1
    assert EmailAddress.objects.get(email="expert1@demo.test").verified


@pytest.mark.parametrize("email", DEMO_LOGINS)
def test_every_demo_user_can_log_in(seeded, client, email):
    assert EmailAddress.objects.filter(email=email, verified=True, primary=True).exists()
    assert client.login(email=email, password=DEMO_PASSWORD)


def test_a_demo_user_passes_allauths_mandatory_verification(seeded, client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"

    response = client.post("/accounts/login/", {"login": "lab@demo.test", "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert "confirm-email" not in response.url and "verification" not in response.url
    assert client.session.get("_auth_user_id") == str(User.objects.get(email="lab@demo.test").pk)


def test_seed_demo_refuses_production_settings_without_force(db, settings):
    settings.SETTINGS_MODULE = "marketplace.settings.production"

    with pytest.raises(CommandError, match="--force"):
        run("seed_demo")
    assert not User.objects.exists()

    run("seed_demo", "--force")
    assert User.objects.count() == len(DEMO_LOGINS)


# --- create_api_key -----------------------------------------------------------------------------------


def test_create_api_key_prints_a_working_key_on_the_last_line(seeded):
    output = run("create_api_key", "--org", "helix-ai-lab", "--name", "pipeline")

    raw = output.strip().splitlines()[-1]
    key = api_key_authenticate(raw)
    assert key is not None
    assert (key.name, key.organization.slug, key.created_by.email) == ("pipeline", "helix-ai-lab", "lab@demo.test")
    assert key.expires_at is None
    assert "helix-ai-lab" in output and key.prefix in output


def test_create_api_key_as_a_named_member_with_an_expiry(seeded):
    output = run(
        "create_api_key", "--org", "meridian-data-services", "--name", "roster sync", "--user", "MANAGER@demo.test",
        "--expires-days", "30",
    )  # fmt: skip

    key = api_key_authenticate(output.strip().splitlines()[-1])
    assert key.created_by.email == "manager@demo.test"
    assert key.expires_at == pytest.approx(timezone.now() + timedelta(days=30), abs=timedelta(minutes=1))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "no-such-org", "--name", "x"], "no-such-org"),
        (["--org", "helix-ai-lab", "--name", "x", "--user", "nobody@demo.test"], "nobody@demo.test"),
        (["--org", "helix-ai-lab", "--name", "x", "--user", "expert1@demo.test"], "not a member"),
        (["--org", "meridian-data-services", "--name", "x", "--user", "expert1@demo.test"], "api_keys.manage"),
        (["--org", "helix-ai-lab", "--name", "  "], "name"),
    ],
    ids=["unknown-org", "unknown-user", "not-a-member", "no-permission", "blank-name"],
)
def test_create_api_key_refuses_naming_what_is_wrong(seeded, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_api_key", *args)
    assert not ApiKey.objects.exists()


def test_create_api_key_refuses_a_non_positive_expiry(seeded):
    with pytest.raises(CommandError, match="expires-days"):
        run("create_api_key", "--org", "helix-ai-lab", "--name", "x", "--expires-days", "0")
