"""A small two-tenant world for the permission matrix (tests/api/test_permission_matrix.py).

Tenant A/V: lab A (owner, admin), vendor V (owner, manager, a certified roster expert) and an
invite-only project of lab A, published with guidelines and a question, bid on by V, bidding closed
past the deadline, awarded to V, the contract signed by both sides (active), the expert assigned,
an accepted batch and a rejected-and-appealed batch, gold items, an invitation and an API key.

The others: lab B (owner), vendor W (manager), an independent expert organisation, platform
operations and finance staff, and an outsider without any organisation. The project is invited-only
(V and the independent expert), so neither lab B nor vendor W may see any of it.

Built through the services wherever production builds it; the factories only for what a person
types in (organisations, users, the project draft, the bid)."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import time_machine
from django.utils import timezone

from apps.accounts import services as account_services
from apps.accounts.models import Membership
from apps.accounts.roles import OrgKind, Role, StaffRole
from apps.assessments import calibration as assessment_calibration
from apps.assessments import services as assessment_services
from apps.bidding import services as bidding_services
from apps.contracts import services as contract_services
from apps.contracts.models import Contract
from apps.experts.models import Credential, CredentialFlag, CredentialType, RosterEntry
from apps.integrations import services as integration_services
from apps.integrations.models import Delivery
from apps.notifications.models import Notification
from apps.projects import services as project_services
from apps.projects.models import GuidelineVersion
from apps.work import services as work_services
from tests.factories import (
    BidFactory,
    CredentialFactory,
    ExpertProfileFactory,
    OrganizationFactory,
    ProjectFactory,
    RosterEntryFactory,
    UserFactory,
    member,
)

# Strings that belong to tenant A/V alone: none may appear in another tenant's response.
PROJECT_TITLE = "Zebra-7Q sentinel thoracic CT preferences"
BID_PRICE = "2.3719"
GOLD_ITEM_IDS = ("gold-sentinel-4f1c", "gold-sentinel-9a2e")
WEBHOOK_URL = "http://127.0.0.1:9/hooks-sentinel-7c1d"  # never called: the world is rolled back, not committed


def _jsonl(rows) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode())


ASSESSMENT_KEY = "98765.4321"  # an answer key: never in a body outside its authors'


def build_world() -> SimpleNamespace:
    today = timezone.localdate()

    # --- organisations and people -------------------------------------------------------------------
    lab_a = OrganizationFactory(name="Acme AI Lab", slug="acme-lab", kind=OrgKind.LAB)
    lab_a_owner = member(lab_a, Role.OWNER, email="owner@acme.test")
    lab_a_admin = member(lab_a, Role.ADMIN, email="admin@acme.test")
    vendor_v = OrganizationFactory(name="Northwind Annotation", slug="northwind", kind=OrgKind.VENDOR)
    member(vendor_v, Role.OWNER, email="owner@northwind.test")
    vendor_v_manager = member(vendor_v, Role.MANAGER, email="manager@northwind.test")
    entry = RosterEntryFactory(
        vendor=vendor_v, user__email="rad@northwind.test", user__full_name="Dr Rosa Roster",
        status=RosterEntry.Status.ACTIVE,
    )  # fmt: skip
    expert = entry.user
    profile = ExpertProfileFactory(user=expert, handle="quiet-heron")
    credential = CredentialFactory(profile=profile, type=CredentialType.BOARD_CERTIFICATION, verified=True)

    lab_b = OrganizationFactory(name="Beta Models Lab", slug="beta-lab", kind=OrgKind.LAB)
    lab_b_owner = member(lab_b, Role.OWNER, email="owner@beta.test")
    vendor_w = OrganizationFactory(name="Rival Labelling", slug="rival", kind=OrgKind.VENDOR)
    member(vendor_w, Role.OWNER, email="owner@rival.test")
    vendor_w_manager = member(vendor_w, Role.MANAGER, email="manager@rival.test")
    individual = OrganizationFactory(name="Dr Ida Independent", slug="ida", kind=OrgKind.INDIVIDUAL)
    individual_owner = member(individual, Role.OWNER, email="ida@independent.test")
    ExpertProfileFactory(user=individual_owner, handle="bright-otter")
    operations = UserFactory(email="ops@platform.test", staff_role=StaffRole.OPERATIONS)
    finance = UserFactory(email="finance@platform.test", staff_role=StaffRole.FINANCE)
    outsider = UserFactory(email="outsider@nowhere.test")

    # A second account claiming the same licence: operations gets a flag to resolve.
    twin = ExpertProfileFactory(user=UserFactory(email="twin@nowhere.test"))
    twin_credential = CredentialFactory(
        profile=twin, type=credential.type, issuer=credential.issuer, identifier=credential.identifier
    )
    flag = CredentialFlag.objects.create(
        kind=CredentialFlag.Kind.DUPLICATE_IDENTIFIER, credential=twin_credential, other_credential=credential
    )

    # --- a webhook endpoint of lab A: every event below gets a delivery ----------------------------------
    webhook, webhook_secret = integration_services.endpoint_create(
        actor=lab_a_owner, organization=lab_a, url=WEBHOOK_URL, event_types=["*"]
    )

    # --- the project, its question, the bid, the award ----------------------------------------------
    project = ProjectFactory(
        lab=lab_a, published=True, title=PROJECT_TITLE, visibility="invited", invited=[vendor_v, individual],
        starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=60),
    )  # fmt: skip
    guideline = GuidelineVersion.objects.get(project=project)
    question = bidding_services.question_ask(
        actor=vendor_v_manager, organization=vendor_v, project=project, text="Are priors available for each study?"
    )
    bid = BidFactory(project=project, bidder=vendor_v, team=[expert], unit_price=Decimal(BID_PRICE))
    with time_machine.travel(project.bid_deadline + timedelta(minutes=1), tick=False):
        assert bidding_services.projects_close_due() == 1
        project.refresh_from_db()
        bidding_services.award_create(
            actor=lab_a_admin, project=project, allocations=[{"bid": str(bid.public_id), "volume": bid.volume}]
        )
    contract = Contract.objects.get(allocation__bid=bid)
    version = contract.versions.get()
    for actor, organization in ((lab_a_admin, lab_a), (vendor_v_manager, vendor_v)):
        contract_services.contract_sign(
            actor=actor, organization=organization, contract=contract, shown_terms_hash=version.terms_hash
        )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE, contract.status
    version.refresh_from_db()

    # --- the expert at work ---------------------------------------------------------------------------
    contract_services.nda_accept(actor=expert, contract=contract)
    project_services.guideline_acknowledge(actor=expert, organization=vendor_v, version=guideline)
    assignment = contract_services.assignment_create(
        actor=vendor_v_manager, organization=vendor_v, contract=contract, expert_public_id=expert.public_id
    )
    labels = list(version.label_set)
    gold_rows = [{"item_id": item_id, "answer": labels[0]} for item_id in GOLD_ITEM_IDS]
    work_services.gold_upload(actor=lab_a_admin, project=project, rows=gold_rows)

    def submit(key):
        rows = [
            {
                "item_id": item_id,
                "annotator": str(expert.public_id),
                "label": labels[i % len(labels)],
                "displayed_order": "AB",
            }
            for i, item_id in enumerate((*GOLD_ITEM_IDS, "item-1", "item-2"))
        ]
        return work_services.batch_submit(
            actor=vendor_v_manager, organization=vendor_v, contract=contract, client_batch_key=key,
            period_start=today - timedelta(days=10), period_end=today - timedelta(days=4), unit_count=4,
            upload=_jsonl(rows), fmt="jsonl",
        )  # fmt: skip

    batch = submit("batch-1")
    work_services.batch_accept(actor=lab_a_admin, batch=batch)
    rejected = submit("batch-2")
    work_services.batch_reject(actor=lab_a_admin, batch=rejected, reason="low_gold_accuracy", evidence="50% on gold.")
    appeal = work_services.appeal_open(
        actor=vendor_v_manager, organization=vendor_v, batch=rejected, reason="The gold answers were ambiguous."
    )

    # --- accounts: an invitation and an API key of lab A ----------------------------------------------
    invitation, _token = account_services.invitation_create(
        actor=lab_a_owner, organization=lab_a, email="newhire@acme.test", role=Role.MEMBER
    )
    api_key, _raw = account_services.api_key_create(actor=lab_a_owner, organization=lab_a, name="ci")
    notification = Notification.objects.filter(recipient__in=[lab_a_admin, lab_a_owner]).first()
    assert notification is not None

    # --- assessments: lab A's draft test (authors only), the expert's attempt at a published one, a round --
    draft_test = assessment_services.test_create(
        actor=lab_a_admin, organization=lab_a, title="Draft", items_per_attempt=1
    )
    assessment_services.item_add(actor=lab_a_admin, test=draft_test, type="numeric", prompt="Dose?", key=ASSESSMENT_KEY)
    taken = assessment_services.test_create(actor=lab_a_admin, organization=lab_a, title="Taken", items_per_attempt=1)
    assessment_services.item_add(actor=lab_a_admin, test=taken, type="numeric", prompt="Dose?", key=ASSESSMENT_KEY)
    assessment_services.test_publish(actor=lab_a_admin, test=taken)
    attempt = assessment_services.attempt_start(actor=expert, test=taken)
    calibration_test = assessment_services.test_create(
        actor=lab_a_admin, organization=lab_a, title="Calibration", kind="calibration", items_per_attempt=1
    )
    assessment_services.item_add(
        actor=lab_a_admin, test=calibration_test, type="likert", prompt="Rate", likert_points=5, key=3
    )
    assessment_services.test_publish(actor=lab_a_admin, test=calibration_test)
    calibration_round = assessment_calibration.calibration_round_create(
        actor=lab_a_admin,
        lab=lab_a,
        test=calibration_test,
        title="Round",
        deadline=timezone.now() + timedelta(days=7),
        suppliers=[vendor_v.public_id],
    )

    # Payments: vendor V's accepted batch earns; finance computes a draft payout run over it.
    from apps.payments.services import payouts as payout_services

    payout_run = payout_services.create_run(
        actor=finance, period_start=today - timedelta(days=30), period_end=today + timedelta(days=1), currency="USD"
    )
    # Payments part B: lab A's charge (recorded directly: no Stripe here) and an open reconciliation exception.
    from apps.payments.models import Charge, ReconciliationException, ReconciliationRun

    charge = Charge.objects.create(
        lab=lab_a, contract=contract, kind="invoice", description="Matrix", amount_minor=1_000, currency="USD",
        idempotency_key="charge:matrix", status="succeeded", stripe_charge_id="ch_matrix",
    )  # fmt: skip
    recon_run = ReconciliationRun.objects.create(window_start=timezone.now(), window_end=timezone.now())
    recon_exception = ReconciliationException.objects.create(
        run=recon_run, kind="stuck", object_type="charge", internal_ref=str(charge.public_id), fingerprint="matrix"
    )

    # Quality: a full scoring run over lab A's contract with vendor V.
    from apps.quality.services import score_contract

    scoring_run = score_contract(contract=contract)

    secrets = (
        ASSESSMENT_KEY,
        PROJECT_TITLE,
        BID_PRICE,
        version.terms_hash,
        *GOLD_ITEM_IDS,
        expert.full_name,
        expert.email,
        WEBHOOK_URL,
        webhook_secret,
    )
    # Path (and required query) parameters, by name, to tenant A/V's objects. Anything not here gets a random UUID.
    ids = {
        "org_id": lab_a.public_id,
        "member_id": Membership.objects.get(organization=lab_a, user=lab_a_admin).public_id,
        "invitation_id": invitation.public_id,
        "key_id": api_key.public_id,
        "expert_id": profile.public_id,
        "credential_id": credential.public_id,
        "flag_id": flag.public_id,
        "entry_id": entry.public_id,
        "notification_id": notification.public_id,
        "project_id": project.public_id,
        "guideline_id": guideline.public_id,
        "question_id": question.public_id,
        "bid_id": bid.public_id,
        "contract_id": contract.public_id,
        "version_id": version.public_id,
        "assignment_id": assignment.public_id,
        "batch_id": batch.public_id,
        "expert": expert.public_id,  # a required query parameter (contracts/{id}/gates/?expert=): a user id
        "appeal_id": appeal.public_id,
        "test_id": draft_test.public_id,
        "attempt_id": attempt.public_id,
        "round_id": calibration_round.public_id,
        "endpoint_id": webhook.public_id,
        "delivery_id": Delivery.objects.filter(endpoint=webhook).latest("id").public_id,
        "run_id": payout_run.public_id,
        "scoring_run_id": scoring_run.public_id,
        "charge_id": charge.public_id,
        "exception_id": recon_exception.public_id,
    }
    assert Credential.objects.filter(pk=credential.pk, status=Credential.Status.VERIFIED).exists()
    return SimpleNamespace(
        ids={name: str(value) for name, value in ids.items()},
        secrets=secrets,
        personas={
            "other_lab_owner": lab_b_owner,
            "competitor_manager": vendor_w_manager,
            "outsider": outsider,
        },
        lab_a=lab_a, lab_a_owner=lab_a_owner, lab_a_admin=lab_a_admin, vendor_v=vendor_v,
        vendor_v_manager=vendor_v_manager, expert=expert, lab_b=lab_b, vendor_w=vendor_w,
        individual=individual, operations=operations, finance=finance, project=project, bid=bid,
        contract=contract, batch=batch, rejected=rejected, appeal=appeal,
    )  # fmt: skip


def path_value(name: str, ids: dict[str, str]) -> str:
    return ids.get(name) or str(uuid.uuid4())
