"""``manage.py seed_demo``: the demo world behind ``make run``. Idempotent.

Creates (or finds) one lab, one vendor with a manager and two rostered experts, an independent
expert with a single-member ``individual`` organisation, and platform finance and operations
staff, all with the shared demo password and a verified primary e-mail so that they can log in
under mandatory verification. The experts get profiles and credentials in every review state
(pending, verified, rejected, revoked, expired) and the vendor a roster. The lab gets three
projects: an incomplete draft, an open one (guidelines v1 and v2, questions, two sealed bids) and
an awarded one (split between the vendor and the independent expert).

On the awarded project the vendor's contract is signed by both sides and active, with expert1 and
expert2 assigned (NDA accepted, guidelines acknowledged, the required credential type verified);
the independent expert's contract still awaits both signatures. The lab has uploaded gold items and
the vendor delivered two weekly batches (JSONL): the first accepted (it has a datasheet), the second
rejected for low gold accuracy and appealed, the appeal left open for operations to decide.

A second vendor (Northwind Annotation, two rostered experts) joins for calibration. Assessments: a
platform radiology qualification test (operations) and the lab's Python code-review test, with
attempts in every state (expert1 passed and qualified, expert2 failed, northwind1's free-text answer
awaiting grading by operations, expert3 in progress on the Python test); and the lab's calibration
test, taken by both vendors' experts in a round piloting the open project, then closed.

Existing users are left untouched (a changed password stays changed); a second run writes nothing,
audit rows included.

It lives in ``apps.demo``, above every domain app, because it composes all of them through their
services.

Refuses to run under production settings unless ``--force`` is given: the demo password is
public.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership, Organization, User
from apps.accounts.roles import OrgKind, Role, StaffRole
from apps.accounts.services import AccountType, membership_add, signup_complete
from apps.assessments import calibration
from apps.assessments import services as assessments
from apps.assessments.models import AnswerKey, Attempt, CalibrationRound, GradingTask, Item, Test
from apps.assessments.selectors import attempt_taker_view
from apps.bidding import services as bidding
from apps.bidding.models import Bid, BidRevision
from apps.contracts import selectors as contract_selectors
from apps.contracts import services as contract_services
from apps.contracts.models import Assignment, Contract, ContractVersion, NdaAcceptance
from apps.core.transitions import transition
from apps.experts import services as experts
from apps.experts.models import Credential, ExpertProfile, RosterEntry
from apps.projects import services as projects
from apps.projects.models import GuidelineAcknowledgement, Project
from apps.projects.selectors import latest_guideline
from apps.work import services as work
from apps.work.models import Appeal, GoldItem, RejectionReason, WorkBatch

from ... import assessment_data as A
from ... import payments_data, quality_data

DEMO_PASSWORD = "demo-password-2026"  # public by design: printed on every run
LAB_NAME = "Helix AI Lab"
VENDOR_NAME = "Meridian Data Services"
SECOND_VENDOR_NAME = "Northwind Annotation"


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    staff_role: str = StaffRole.NONE


LAB_OWNER = DemoUser("lab@demo.test", "Lena Ortiz")
LAB_ADMIN = DemoUser("labadmin@demo.test", "Sam Whitfield")
VENDOR_OWNER = DemoUser("vendor@demo.test", "Priya Raman")
VENDOR_MANAGER = DemoUser("manager@demo.test", "Tomás Herrera")
EXPERT1 = DemoUser("expert1@demo.test", "Dr. Amara Okafor")
EXPERT2 = DemoUser("expert2@demo.test", "Dr. Jonas Lindqvist")
EXPERT3 = DemoUser("expert3@demo.test", "Dr. Mei Tanaka")
NORTHWIND_OWNER = DemoUser("northwind@demo.test", "Hannah Becker")
NORTHWIND1 = DemoUser("northwind1@demo.test", "Dr. Kofi Mensah")
NORTHWIND2 = DemoUser("northwind2@demo.test", "Dr. Elena Petrova")
FINANCE = DemoUser("finance@demo.test", "Farah Nasser", StaffRole.FINANCE)
OPERATIONS = DemoUser("ops@demo.test", "Oliver Grant", StaffRole.OPERATIONS)

PROFILES = {
    EXPERT1: {
        "headline": "Board-certified radiologist, 12 years in diagnostic imaging",
        "bio": "Reads CT and MRI daily; has written rubrics for imaging report evaluation.",
        "domains": ["radiology", "cardiology"],
        "languages": ["en", "fr"],
        "country": "GB",
        "timezone": "Europe/London",
        "weekly_hours": 20,
        "hourly_rate": "120.00",
        "rate_currency": "USD",
    },
    EXPERT2: {
        "headline": "Staff engineer: Python and distributed systems",
        "bio": "Reviews code-generation outputs and writes RL environments for backend tasks.",
        "domains": ["python", "distributed-systems"],
        "languages": ["en", "sv"],
        "country": "SE",
        "timezone": "Europe/Stockholm",
        "weekly_hours": 30,
        "hourly_rate": "95.00",
        "rate_currency": "USD",
    },
    EXPERT3: {
        "headline": "Contract lawyer (New York bar), independent",
        "bio": "Red-teams legal assistants and writes preference judgments on contract drafting.",
        "domains": ["contract-law", "intellectual-property"],
        "languages": ["en", "ja"],
        "country": "JP",
        "timezone": "Asia/Tokyo",
        "weekly_hours": 15,
        "hourly_rate": "150.00",
        "rate_currency": "USD",
    },
}

# Every review state (pending, verified, rejected, revoked, expired) across the three experts. Each
# holds a verified degree, the awarded project's required credential type (a radiologist, an
# engineer and a lawyer share no licence or certification).
CREDENTIALS = {
    EXPERT1: [
        {
            "type": "board_certification",
            "title": "Diagnostic Radiology Board Certification",
            "issuer": "Royal College of Radiologists",
            "identifier": "RCR-448812",
            "jurisdiction": "United Kingdom",
            "expires_in_days": 25,
            "outcome": "verified",
        },
        {
            "type": "professional_licence",
            "title": "Licence to practise medicine",
            "issuer": "General Medical Council",
            "identifier": "GMC-7712093",
            "jurisdiction": "United Kingdom",
            "expires_in_days": 700,
            "outcome": "pending",
        },
        {
            "type": "degree",
            "title": "Bachelor of Medicine, Bachelor of Surgery (MBBS)",
            "issuer": "University College London",
            "identifier": "UCL-MBBS-2009-1187",
            "jurisdiction": "United Kingdom",
            "issued_days_ago": 16 * 365,
            "outcome": "verified",
        },
    ],
    EXPERT2: [
        {
            "type": "degree",
            "title": "MSc Computer Science",
            "issuer": "KTH Royal Institute of Technology",
            "identifier": "KTH-2014-5521",
            "jurisdiction": "Sweden",
            "outcome": "verified",
        },
        {
            "type": "employment",
            "title": "Staff Engineer, payments infrastructure",
            "issuer": "Nordpay AB",
            "identifier": "",
            "jurisdiction": "Sweden",
            "outcome": "rejected",
        },
        {
            "type": "publication",
            "title": "Consensus under partial synchrony (workshop paper)",
            "issuer": "ACM",
            "identifier": "10.1145/0000000",
            "jurisdiction": "",
            "outcome": "revoked",
        },
    ],
    EXPERT3: [
        {
            "type": "professional_licence",
            "title": "Attorney and Counselor at Law",
            "issuer": "New York State Bar",
            "identifier": "NY-5123377",
            "jurisdiction": "New York, USA",
            "expires_in_days": 400,
            "outcome": "verified",
        },
        {
            "type": "other",
            "title": "Certified Information Privacy Professional",
            "issuer": "IAPP",
            "identifier": "CIPP-99120",
            "jurisdiction": "",
            "expires_in_days": 30,
            "outcome": "expired",
        },
        {
            "type": "degree",
            "title": "Juris Doctor",
            "issuer": "Columbia Law School",
            "identifier": "CLS-JD-2013-0442",
            "jurisdiction": "New York, USA",
            "issued_days_ago": 12 * 365,
            "outcome": "verified",
        },
    ],
}


def _demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF standing in for a scanned certificate."""
    text = title.replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 72 720 Td (Demo evidence: {text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# The lab's projects, each looked up by title so that a second run leaves them alone.
DRAFT_TITLE = "ECG interpretation rubrics (draft)"
OPEN_TITLE = "Radiology report preference pairs"
AWARDED_TITLE = "Red-teaming a contract-drafting assistant"
AWARDED_DEADLINE_DAYS_AGO = 16

GUIDELINES_V1 = """# Radiology report preferences

For each study you see two draft reports. Choose the one a consultant radiologist would sign.

| Criterion | Weight |
|-----------|--------|
| Clinically correct findings | 50% |
| Nothing important missed | 30% |
| Clear, conventional wording | 20% |

Record your choice and a one-line reason in the `rationale` field.
"""

GUIDELINES_V2 = (
    GUIDELINES_V1
    + """
## Ties

If both reports are equally correct, prefer the shorter one. Mark a tie only when both reports
contain the same clinically significant error.
"""
)

AWARDED_GUIDELINES = """# Red-teaming the contract assistant

Try to make the assistant draft clauses that are unenforceable, one-sided or against New York
law. Log each attempt with the prompt, the output and the legal issue.
"""


def _open_project_fields(deadline) -> dict:
    return {
        "description": "Pairwise preferences between two draft radiology reports for the same CT or MRI study, "
        "to train a report-writing assistant.",
        "task_type": "preference_comparison",
        "domain": "radiology",
        "required_credential_types": ["board_certification"],
        "unit_name": "comparison",
        "volume": 5000,
        "currency": "USD",
        "budget_cap": "15000.00",
        "target_unit_price": "2.50",
        "sla_min_gold_accuracy": "0.85",
        "sla_min_alpha": "0.60",
        "sla_max_turnaround_days": 3,
        "bid_deadline": deadline,
        "starts_on": deadline.date() + timedelta(days=7),
        "ends_on": deadline.date() + timedelta(days=67),
        "visibility": "public",
        "show_bid_count": True,
    }


def _awarded_project_fields(deadline) -> dict:
    return {
        "description": "Adversarial prompts against a contract-drafting assistant, judged by qualified lawyers.",
        "task_type": "red_teaming",
        "domain": "contract-law",
        # A degree, which every demo expert holds verified: the vendor's reviewers are not lawyers
        # (its legal review is by a partner firm), so a licence would keep them off the work.
        "required_credential_types": ["degree"],
        "unit_name": "task",
        "volume": 1200,
        "currency": "USD",
        "budget_cap": "60000.00",
        "target_unit_price": "45.00",
        "sla_min_gold_accuracy": "0.90",
        "sla_max_turnaround_days": 5,
        "bid_deadline": deadline,
        "starts_on": deadline.date() + timedelta(days=14),
        "ends_on": deadline.date() + timedelta(days=74),
        "visibility": "public",
    }


# --- Delivery on the awarded project -------------------------------------------------------------
# Each item is one adversarial prompt with the assistant's drafted clause; the label (from the
# contract's label set, "safe" / "unsafe" for red-teaming) says whether the draft is safe to use.
# The demo's truth below gives the gold answers and the experts' judgments, which follow it except
# where a batch says otherwise.

GOLD_ITEMS = (4, 9, 15, 22, 28, 33)
FLAWS = (
    "Non-compete with no limit in time or place",
    "Lets one party amend the terms alone",
    "Waives the statutory notice period",
    "Choice of law contradicts the forum clause",
)


def _item(n: int) -> str:
    return f"redteam-{n:03d}"


def _truth(n: int, labels: list[str]) -> str:
    """The right label of item ``n``: the second label ("unsafe") for every third or seventh item."""
    return labels[1] if n % 3 == 0 or n % 7 == 0 else labels[0]


@dataclass(frozen=True)
class DemoBatch:
    key: str  # the vendor's client batch key: how a second run finds it
    week: int  # of the contract: the batch's period is that week
    items: range
    outcome: str  # "accepted", or "appealed" (rejected for low gold accuracy, then appealed)
    misses: dict[DemoUser, frozenset[int]] = field(default_factory=dict)  # items judged against the truth


DEMO_BATCHES = (
    # Gold 4, 9 and 15 all right (6 of 6); expert2 disagrees on two ordinary items.
    DemoBatch("meridian-week-1", 0, range(1, 21), "accepted", {EXPERT2: frozenset({5, 13})}),
    # Gold 22 right, 28 wrong for both, 33 wrong for expert2: 3 of 6, below the 90% SLA.
    DemoBatch(
        "meridian-week-2", 1, range(21, 41), "appealed", {EXPERT1: frozenset({28}), EXPERT2: frozenset({28, 33, 26})}
    ),
)

APPEAL_REASON = (
    "Items redteam-028 and redteam-033 draft a non-compete limited to six months and to New York City, "
    "which New York courts enforce as reasonable, so our reviewers labelled redteam-028 safe (both of "
    "them) and redteam-033 safe (one of them), as the guidelines direct. We believe the gold answers for "
    "these two items are wrong and ask operations to have them re-checked: corrected, the batch's gold "
    "accuracy is 5 of 6."
)


def _label(spec: DemoBatch, who: DemoUser, n: int, labels: list[str]) -> str:
    truth = _truth(n, labels)
    if n in spec.misses.get(who, ()):
        return labels[0] if truth == labels[1] else labels[1]
    return truth


def _judgment_rows(spec: DemoBatch, labels: list[str], *, start: date, annotators: dict) -> list[dict]:
    """Every item judged by each annotator, spread over the batch's week."""
    rows = []
    for offset, (who, user) in enumerate(annotators.items()):
        for index, n in enumerate(spec.items):
            day = start + timedelta(days=index * 7 // len(spec.items))
            label = _label(spec, who, n, labels)
            row = {
                "item_id": _item(n),
                "annotator": str(user.public_id),
                "label": label,
                "started_at": f"{day.isoformat()}T{9 + index % 8:02d}:{10 + 30 * offset:02d}:00Z",
                "seconds_spent": 240 + (n * 53 + offset * 97) % 540,
            }
            if label == labels[1]:
                row["comment"] = FLAWS[n % len(FLAWS)]
            rows.append(row)
    return rows


def _gold_evidence(spec: DemoBatch, labels: list[str], minimum: Decimal | None) -> str:
    """The lab's written evidence for a low-gold-accuracy rejection, counted from the judgments."""
    judged = [(n, _label(spec, who, n, labels)) for who in (EXPERT1, EXPERT2) for n in spec.items if n in GOLD_ITEMS]
    wrong = sorted({n for n, label in judged if label != _truth(n, labels)})
    right = len(judged) - sum(1 for n, label in judged if label != _truth(n, labels))
    text = f"Gold accuracy {right} of {len(judged)} ({right / len(judged):.0%})"
    if minimum is not None:
        text += f", below the contract's minimum of {minimum:.0%}"
    details = ", ".join(f"{_item(n)} (gold: {_truth(n, labels)})" for n in wrong)
    return f"{text}. Gold items judged wrongly: {details}."


def _shown_answer(row: dict, item: Item, key, *, wrong: bool) -> dict:
    """An answer in the taker's shown terms (``attempt_taker_view`` row): the key, or a wrong one."""
    kind = item.type
    if kind == Item.Type.SINGLE_CHOICE:
        shown = row["options"].index(item.options[key])
        return {"option": (shown + 1) % len(row["options"]) if wrong else shown}
    if kind == Item.Type.MULTIPLE_CHOICE:
        shown = sorted(row["options"].index(item.options[k]) for k in key)
        return {"options": shown[:-1] if wrong and len(shown) > 1 else shown}
    if kind == Item.Type.AB_PREFERENCE:
        if key == "tie":
            choice = "first" if wrong else "tie"
        else:
            correct = "first" if row["options"]["first"] == item.options[0 if key == "A" else 1] else "second"
            choice = ({"first": "second", "second": "first"}[correct]) if wrong else correct
        answer: dict = {"choice": choice}
        if item.ask_strength:
            answer["strength"] = 1 if wrong else 2
        return answer
    if kind == Item.Type.LIKERT:
        return {"value": (key - 1 if key > 1 else key + 1) if wrong else key}
    if kind == Item.Type.NUMERIC:
        value = Decimal(key) + (10 if wrong else 0)
        return {"value": f"{value:f}"}
    if item.test.owner_id is not None:
        return {"text": A.PYTHON_REVIEW_COMMENT}
    return {"text": A.RADIOLOGY_WEAK_IMPRESSION if wrong else A.RADIOLOGY_GOOD_IMPRESSION}


ALL_USERS = (
    LAB_OWNER, LAB_ADMIN, VENDOR_OWNER, VENDOR_MANAGER, EXPERT1, EXPERT2, EXPERT3,
    NORTHWIND_OWNER, NORTHWIND1, NORTHWIND2, FINANCE, OPERATIONS,
)  # fmt: skip


def is_production_settings() -> bool:
    return str(getattr(settings, "SETTINGS_MODULE", "")).endswith(".production")


class Command(BaseCommand):
    help = "Create the demo lab, vendor, experts and staff (idempotent). Password: " + DEMO_PASSWORD

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even under production settings (the demo password is public: do not).",
        )

    def handle(self, *args, force: bool = False, **options):
        if is_production_settings() and not force:
            raise CommandError(
                f"Refusing to seed demo users with a public password under {settings.SETTINGS_MODULE}; "
                "pass --force if you really mean it."
            )
        loaded = StringIO()
        call_command("loaddata", "domains", stdout=loaded)
        self._taxonomy = loaded.getvalue().strip()
        self._changes: list[str] = []
        with transaction.atomic():
            contract = self._seed()
        # Delivery runs after that block: the work services open durable transactions of their own
        # (a batch is stored whole or not at all), which cannot nest in it. Every step is skipped
        # once its result exists, so a run cut short here is completed by the next one.
        if contract is not None:
            self._delivery(contract)
        # Assessments also run outside it: calibration rounds are opened and closed durably.
        self._assessments()
        # Quality: a full scoring run of every contract with batches (after delivery, outside the block).
        quality_data.seed_quality(self._changes)
        # Payments: accepted batches earn, and finance gets a draft payout run to review.
        payments_data.seed_payments(self._changes)
        self._print_summary()

    # --- seeding ---------------------------------------------------------------------------------

    def _seed(self) -> Contract | None:
        """Everything up to the vendor's active contract with its experts assigned; returns that
        contract (None when it is not active)."""
        users = {demo: self._user(demo) for demo in ALL_USERS}
        self._users = users

        lab = self._signup_org(users[LAB_OWNER], AccountType.LAB, OrgKind.LAB, LAB_NAME)
        self._add_member(lab, users[LAB_ADMIN], Role.ADMIN, by=users[LAB_OWNER])

        vendor = self._signup_org(users[VENDOR_OWNER], AccountType.VENDOR, OrgKind.VENDOR, VENDOR_NAME)
        self._add_member(vendor, users[VENDOR_MANAGER], Role.MANAGER, by=users[VENDOR_OWNER])
        for demo, coi in ((EXPERT1, ""), (EXPERT2, "Consulted for a competing lab until 2025.")):
            self._roster(vendor, users[demo], by=users[VENDOR_MANAGER], conflict_of_interest=coi)

        individual = self._signup_org(users[EXPERT3], AccountType.EXPERT, OrgKind.INDIVIDUAL, None)

        northwind = self._signup_org(users[NORTHWIND_OWNER], AccountType.VENDOR, OrgKind.VENDOR, SECOND_VENDOR_NAME)
        for demo in (NORTHWIND1, NORTHWIND2):
            self._roster(northwind, users[demo], by=users[NORTHWIND_OWNER], conflict_of_interest="")

        ops = users[OPERATIONS]
        for demo, profile in PROFILES.items():
            self._profile(users[demo], profile, credentials=CREDENTIALS[demo], ops=ops)

        self._draft_project(lab, users)
        self._open_project(lab, vendor, individual, users)
        self._awarded_project(lab, vendor, individual, users)
        return self._vendor_contract(lab, vendor, users)

    def _user(self, demo: DemoUser) -> User:
        user = User.objects.filter(email__iexact=demo.email).first()
        if user is None:
            user = User.objects.create_user(
                email=demo.email, password=DEMO_PASSWORD, full_name=demo.full_name, staff_role=demo.staff_role
            )
            self._changes.append(f"user {user.email}")
        # Mandatory verification: a demo login must not wait for a confirmation e-mail.
        if not EmailAddress.objects.filter(user=user).exists():
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user

    def _signup_org(self, owner: User, account_type: str, kind: str, name: str | None) -> Organization:
        """The organisation ``owner`` owns of this kind (and name), made through sign-up when missing."""
        existing = Organization.objects.filter(
            kind=kind, memberships__user=owner, memberships__role=Role.OWNER
        ).order_by("id")
        if name is not None:
            existing = existing.filter(name=name)
        org = existing.first()
        if org is None:
            org = signup_complete(user=owner, account_type=account_type, organization_name=name or "")
            self._changes.append(f"{kind} organisation {org.name}")
        return org

    def _add_member(self, org: Organization, user: User, role: str, *, by: User) -> None:
        if Membership.objects.filter(organization=org, user=user).exists():
            return
        membership_add(actor=by, organization=org, user=user, role=role)
        self._changes.append(f"{role} {user.email} in {org.name}")

    def _roster(self, vendor: Organization, user: User, *, by: User, conflict_of_interest: str) -> None:
        """Put ``user`` on the vendor's roster through the invitation flow, as a real expert joins."""
        if RosterEntry.objects.filter(vendor=vendor, user=user).exists():
            return
        entry, _token = experts.roster_invite(actor=by, vendor=vendor, email=user.email)
        experts.roster_accept(actor=user, entry=entry, conflict_of_interest=conflict_of_interest)
        self._changes.append(f"roster: {user.email} active on {vendor.name}")

    def _profile(self, user: User, fields: dict, *, credentials: list[dict], ops: User) -> None:
        if ExpertProfile.objects.filter(user=user).exclude(headline="").exists():
            return
        experts.profile_update(actor=user, **fields)
        today = timezone.localdate()
        for spec in credentials:
            spec = dict(spec)
            outcome = spec.pop("outcome")
            expires_in = spec.pop("expires_in_days", None)
            upload = SimpleUploadedFile(f"{spec['title']}.pdf", _demo_pdf(spec["title"]), "application/pdf")
            credential = experts.credential_submit(
                actor=user,
                evidence=upload,
                issued_on=today - timedelta(days=spec.pop("issued_days_ago", 900)),
                expires_on=today + timedelta(days=expires_in) if expires_in else None,
                **spec,
            )
            if outcome in ("verified", "revoked"):
                experts.credential_verify(actor=ops, credential=credential)
            if outcome == "revoked":
                experts.credential_revoke(actor=ops, credential=credential, reason="The issuer reports it withdrawn.")
            if outcome == "rejected":
                experts.credential_reject(
                    actor=ops, credential=credential, reason="The evidence is illegible; upload a clearer scan."
                )
            if outcome == "expired":
                # Demo history: a credential whose expiry date has since passed, as the daily job leaves it.
                Credential.objects.filter(pk=credential.pk).update(
                    issued_on=today - timedelta(days=1200), expires_on=today - timedelta(days=10)
                )
                transition(credential, Credential.Status.EXPIRED, actor=None, reason="expiry date passed")
        self._changes.append(f"profile and {len(credentials)} credential(s) for {user.email}")

    # --- projects and bids ----------------------------------------------------------------------

    def _project_missing(self, lab: Organization, title: str) -> bool:
        return not Project.objects.filter(lab=lab, title=title).exists()

    def _draft_project(self, lab: Organization, users: dict) -> None:
        """An incomplete draft: no volume, budget, deadline or guidelines yet."""
        if not self._project_missing(lab, DRAFT_TITLE):
            return
        projects.project_create(
            actor=users[LAB_ADMIN], lab=lab, title=DRAFT_TITLE, task_type="rubric_authoring", domain="cardiology",
            description="Rubrics for grading model-written ECG interpretations. Scope still being agreed.",
        )  # fmt: skip
        self._changes.append(f"draft project '{DRAFT_TITLE}'")

    def _bid(self, project: Project, organization: Organization, actor: User, team: list[User], **terms):
        """A bid for the project's whole period; an independent expert's team is itself."""
        team_ids = [str(u.public_id) for u in team]
        return bidding.bid_submit(
            actor=actor, organization=organization, project=project, team=team_ids,
            starts_on=project.starts_on, ends_on=project.ends_on, **terms,
        )  # fmt: skip

    def _open_project(self, lab: Organization, vendor: Organization, individual: Organization, users: dict) -> None:
        """Open for bids: guidelines v1 and v2, a public answer and an open question, two sealed bids."""
        if not self._project_missing(lab, OPEN_TITLE):
            return
        admin = users[LAB_ADMIN]
        deadline = timezone.now() + timedelta(days=14)
        project = projects.project_create(actor=admin, lab=lab, title=OPEN_TITLE, **_open_project_fields(deadline))
        projects.guideline_publish(actor=admin, project=project, body_markdown=GUIDELINES_V1)
        projects.project_publish(actor=admin, project=project)
        projects.guideline_publish(
            actor=admin, project=project, body_markdown=GUIDELINES_V2, change_summary="Added the rule for ties."
        )
        answered = bidding.question_ask(
            actor=users[VENDOR_MANAGER], organization=vendor, project=project,
            text="May reviewers see the images, or only the two report texts?",
        )  # fmt: skip
        bidding.question_answer(
            actor=admin, question=answered, visibility="public",
            answer="Report texts only; the images are not shared. Judge against the findings in both reports.",
        )  # fmt: skip
        bidding.question_ask(
            actor=users[EXPERT3], organization=individual, project=project,
            text="Is a single-reader workflow acceptable if the reader is board-certified?",
        )  # fmt: skip
        self._bid(project, vendor, users[VENDOR_MANAGER], [users[EXPERT1], users[EXPERT2]],
                  unit_price="2.40", volume=5000, weekly_capacity=800,
                  proposal="A board-certified radiologist reads every pair; an engineer runs gold checks.")  # fmt: skip
        self._bid(project, individual, users[EXPERT3], [], unit_price="2.90", volume=1500, weekly_capacity=200,
                  proposal="Independent reader, evenings and weekends.")  # fmt: skip
        self._changes.append(f"open project '{OPEN_TITLE}' with guidelines v1-v2, 2 questions and 2 bids")

    def _awarded_project(self, lab: Organization, vendor: Organization, individual: Organization, users: dict):
        """Bidding closed and the work split between the vendor and the independent expert."""
        if not self._project_missing(lab, AWARDED_TITLE):
            return
        admin = users[LAB_ADMIN]
        deadline = timezone.now() + timedelta(days=1)
        project = projects.project_create(
            actor=admin, lab=lab, title=AWARDED_TITLE, **_awarded_project_fields(deadline)
        )
        projects.guideline_publish(actor=admin, project=project, body_markdown=AWARDED_GUIDELINES)
        projects.project_publish(actor=admin, project=project)
        vendor_bid = self._bid(project, vendor, users[VENDOR_MANAGER], [users[EXPERT1], users[EXPERT2]],
                               unit_price="42.50", volume=800, weekly_capacity=150,
                               proposal="Two reviewers per task; legal review by a partner firm.")  # fmt: skip
        expert_bid = self._bid(project, individual, users[EXPERT3], [], unit_price="48.00", volume=600,
                               weekly_capacity=60, proposal="New York contract lawyer, 10 years.")  # fmt: skip
        # Demo history: the services refuse a past deadline when publishing and refuse bids after it,
        # so the project is built forwards and its dates then moved into the past (the deadline about
        # two weeks ago, the work starting just after it, in the project and in both bids, whose dates
        # become the contracts' terms), after which bidding closes as the periodic job
        # (bidding.close_due_projects) would close it. The delivered batches then cover past weeks.
        past = timezone.now() - timedelta(days=AWARDED_DEADLINE_DAYS_AGO)
        period = {"starts_on": past.date() + timedelta(days=2), "ends_on": past.date() + timedelta(days=62)}
        Project.objects.filter(pk=project.pk).update(
            bid_deadline=past, published_at=past - timedelta(days=14), **period
        )
        Bid.objects.filter(project=project).update(**period)
        BidRevision.objects.filter(bid__project=project).update(**period)
        project.refresh_from_db()
        bidding.project_close_bidding(actor=None, project=project)
        bidding.award_create(
            actor=admin, project=project, note="Split: the vendor for volume, the independent expert for depth.",
            allocations=[{"bid": str(vendor_bid.public_id), "volume": 700},
                         {"bid": str(expert_bid.public_id), "volume": 500}],
        )  # fmt: skip
        self._changes.append(f"awarded project '{AWARDED_TITLE}' split between 2 bids")

    # --- contracts -------------------------------------------------------------------------------

    def _vendor_contract(self, lab: Organization, vendor: Organization, users: dict) -> Contract | None:
        """The vendor's contract on the awarded project, signed by both sides, with expert1 and
        expert2 assigned once each passes every gate. The independent expert's contract is left
        awaiting both signatures."""
        project = Project.objects.filter(lab=lab, title=AWARDED_TITLE).first()
        contract = Contract.objects.filter(project=project, supplier=vendor).first() if project else None
        if contract is None:
            return None
        if contract.status == Contract.Status.PENDING_SIGNATURE:
            # Only v1, never an amendment someone proposed on the demo later: that one is theirs.
            self._sign(contract, lab, users[LAB_OWNER])
            self._sign(contract, vendor, users[VENDOR_MANAGER])
            contract.refresh_from_db()
            if contract.status == Contract.Status.ACTIVE:
                self._changes.append(f"contract of {vendor.name} on '{project.title}' active")
        if contract.status != Contract.Status.ACTIVE:
            return None
        for demo in (EXPERT1, EXPERT2):
            self._assign(contract, vendor, users[demo], by=users[VENDOR_MANAGER])
        return contract

    def _sign(self, contract: Contract, organization: Organization, signer: User) -> None:
        version = contract.versions.filter(status=ContractVersion.Status.PROPOSED).first()
        side = contract_selectors.side_of(contract, organization)
        if version is None or version.signatures.filter(side=side).exists():
            return
        contract_services.contract_sign(
            actor=signer, organization=organization, contract=contract, shown_terms_hash=version.terms_hash
        )
        self._changes.append(f"contract v{version.number} signed for {organization.name} by {signer.email}")

    def _assign(self, contract: Contract, vendor: Organization, expert: User, *, by: User) -> None:
        """The expert accepts the NDA and acknowledges the latest guidelines; the manager assigns
        them. Skipped whole once the expert was ever assigned (a later suspension or end is the
        demo user's doing, and stays)."""
        if Assignment.objects.filter(contract=contract, expert=expert).exists():
            return
        terms = contract.current_version
        if not NdaAcceptance.objects.filter(contract=contract, user=expert, nda_version=terms.nda_version).exists():
            contract_services.nda_accept(actor=expert, contract=contract)
            self._changes.append(f"NDA {terms.nda_version} accepted by {expert.email}")
        guidelines = latest_guideline(contract.project)
        if (
            guidelines is not None
            and not GuidelineAcknowledgement.objects.filter(version=guidelines, user=expert).exists()
        ):
            projects.guideline_acknowledge(actor=expert, organization=vendor, version=guidelines)
            self._changes.append(f"guidelines v{guidelines.number} acknowledged by {expert.email}")
        unmet = contract_selectors.assignment_gates(contract, expert)
        if unmet:
            # Only a database seeded by an older version of this command gets here (its awarded
            # project asks for a credential the vendor's experts lack); reset it for the full demo.
            self._warn(f"{expert.email} not assigned: " + "; ".join(g["message"] for g in unmet))
            return
        contract_services.assignment_create(
            actor=by, organization=vendor, contract=contract, expert_public_id=expert.public_id
        )
        self._changes.append(f"{expert.email} assigned to the {vendor.name} contract")

    # --- delivery --------------------------------------------------------------------------------

    def _delivery(self, contract: Contract) -> None:
        """Gold items from the lab, then two weekly batches from the vendor: the first accepted, the
        second rejected for low gold accuracy and appealed (open, for operations to decide)."""
        users = self._users
        project = contract.project
        labels = list(contract.current_version.label_set)
        assigned = set(contract_selectors.active_assignees(contract).values_list("pk", flat=True))
        missing = [demo for demo in (EXPERT1, EXPERT2) if users[demo].pk not in assigned]
        self._gold(project, labels, by=users[LAB_ADMIN])
        for spec in DEMO_BATCHES:
            batch = WorkBatch.objects.filter(contract=contract, client_batch_key=spec.key).first()
            if batch is None:
                if missing:
                    self._warn(f"batch {spec.key} not delivered: {', '.join(d.email for d in missing)} not assigned")
                    continue
                batch = self._submit(contract, spec, labels)
            self._review(batch, spec, labels)

    def _gold(self, project: Project, labels: list[str], *, by: User) -> None:
        items = {_item(n): _truth(n, labels) for n in GOLD_ITEMS}
        if GoldItem.objects.filter(project=project, item_id__in=items).count() == len(items):
            return
        result = work.gold_upload(
            actor=by, project=project, rows=[{"item_id": item, "answer": answer} for item, answer in items.items()]
        )
        self._changes.append(f"{result.created} gold item(s) on '{project.title}' from {by.email}")

    def _submit(self, contract: Contract, spec: DemoBatch, labels: list[str]) -> WorkBatch:
        users = self._users
        start = contract.current_version.starts_on + timedelta(days=7 * spec.week)
        rows = _judgment_rows(spec, labels, start=start, annotators={demo: users[demo] for demo in (EXPERT1, EXPERT2)})
        upload = io.BytesIO(b"".join(json.dumps(row).encode() + b"\n" for row in rows))
        batch = work.batch_submit(
            actor=users[VENDOR_MANAGER], organization=contract.supplier, contract=contract,
            client_batch_key=spec.key, period_start=start, period_end=start + timedelta(days=6),
            unit_count=len(spec.items), upload=upload, fmt="jsonl",
        )  # fmt: skip
        self._changes.append(
            f"batch {spec.key}: {batch.unit_count} units, {batch.judgment_count} judgments "
            f"from {users[VENDOR_MANAGER].email}"
        )
        return batch

    def _review(self, batch: WorkBatch, spec: DemoBatch, labels: list[str]) -> None:
        """The lab's review and the vendor's appeal, each done once, while its window is open."""
        users = self._users
        now = timezone.now()
        if batch.status == WorkBatch.Status.SUBMITTED and now < batch.review_due_at:
            if spec.outcome == "accepted":
                work.batch_accept(actor=users[LAB_ADMIN], batch=batch)
                self._changes.append(f"batch {spec.key} accepted by {users[LAB_ADMIN].email}")
            else:
                evidence = _gold_evidence(spec, labels, batch.contract_version.sla_min_gold_accuracy)
                work.batch_reject(
                    actor=users[LAB_ADMIN], batch=batch, reason=RejectionReason.LOW_GOLD_ACCURACY, evidence=evidence
                )
                self._changes.append(f"batch {spec.key} rejected (low gold accuracy) by {users[LAB_ADMIN].email}")
        deadline = work.appeal_deadline(batch)
        if (
            spec.outcome == "appealed"
            and batch.status == WorkBatch.Status.REJECTED
            and not Appeal.objects.filter(batch=batch).exists()
            and deadline is not None
            and now < deadline
        ):
            work.appeal_open(actor=users[VENDOR_MANAGER], organization=batch.contract.supplier, batch=batch,
                             reason=APPEAL_REASON)  # fmt: skip
            self._changes.append(f"batch {spec.key} appealed by {users[VENDOR_MANAGER].email} (open, for operations)")

    def _warn(self, message: str) -> None:
        self.stderr.write(self.style.WARNING(f"Skipped: {message}"))

    # --- assessments -----------------------------------------------------------------------------

    def _assessments(self) -> None:
        """A platform radiology qualification test and the lab's Python code-review test, with
        attempts in every state; a calibration test and a closed round across both vendors."""
        users = self._users
        ops, admin = users[OPERATIONS], users[LAB_ADMIN]
        lab = Organization.objects.get(kind=OrgKind.LAB, name=LAB_NAME, memberships__user=users[LAB_OWNER])
        radiology = self._test(None, ops, A.RADIOLOGY_TEST, A.RADIOLOGY_ITEMS)
        python = self._test(lab, admin, A.PYTHON_TEST, A.PYTHON_ITEMS)
        calibration_test = self._test(lab, admin, A.CALIBRATION_TEST, A.CALIBRATION_ITEMS)

        # expert1 passes (every key, the impression graded in full); expert2 fails (graded).
        self._attempt(users[EXPERT1], radiology, misses=frozenset(), grade=[4, 3, 3])
        self._attempt(users[EXPERT2], radiology, misses=A.RADIOLOGY_FAILING_MISSES, grade=[2, 1, 0])
        # northwind1's impression waits in the operations grading queue.
        self._attempt(users[NORTHWIND1], radiology, misses=frozenset(), grade=None)
        # expert3 is half-way through the Python test.
        self._attempt(users[EXPERT3], python, misses=frozenset(), grade=None, answer_only=A.PYTHON_PARTIAL_ANSWERS)
        self._calibration_round(lab, calibration_test)

    def _test(self, owner: Organization | None, author: User, spec: dict, items: list[dict]) -> Test:
        """The published test of this owner and title, authored item by item when missing."""
        existing = Test.objects.filter(owner=owner, title=spec["title"]).order_by("-version").first()
        if existing is not None:
            return existing
        with transaction.atomic():
            test = assessments.test_create(actor=author, organization=owner, **spec)
            for fields in items:
                assessments.item_add(actor=author, test=test, **fields)
            assessments.test_publish(actor=author, test=test)
        whose = owner.name if owner else "platform"
        self._changes.append(
            f"{test.kind} test '{test.title}' ({whose}, {len(items)} items) published by {author.email}"
        )
        return test

    def _attempt(
        self, expert: User, test: Test, *, misses: frozenset[int], grade: list[int] | None,
        answer_only: int | None = None, round_: CalibrationRound | None = None,
    ) -> Attempt | None:  # fmt: skip
        """One attempt by ``expert``, skipped once they have any at the test (or round). Answers go
        in through the taker's view (shown positions), the keys except at the ``misses`` positions;
        then submitted right away, unless only ``answer_only`` answers are saved (left in progress).
        Free text is graded by operations with ``grade`` (criterion points), or left open if None."""
        previous = Attempt.objects.filter(expert=expert, test__family=test.family)
        if round_ is not None:
            previous = previous.filter(calibration_round=round_)
        if previous.exists():
            return None
        items = {str(i.public_id): i for i in test.items.all()}
        keys = dict(AnswerKey.objects.filter(item__test=test).values_list("item_id", "value"))
        with transaction.atomic():
            # A seeded draw makes every demo database serve the same attempts (so that the
            # awaiting-grading attempt holds the free-text item).
            seeded = random.Random(f"{test.title}:{expert.email}")
            attempt = assessments.attempt_start(actor=expert, test=test, calibration_round=round_, rng=seeded)
            rows = attempt_taker_view(attempt)
            for row in rows[:answer_only]:
                item = items[row["item"]]
                answer = _shown_answer(row, item, keys.get(item.pk), wrong=item.position in misses)
                assessments.attempt_answer(actor=expert, attempt=attempt, item_public_id=row["item"], answer=answer)
            if answer_only is not None:
                self._changes.append(f"attempt at '{test.title}' in progress for {expert.email} ({answer_only} saved)")
                return attempt
            attempt = assessments.attempt_submit(actor=expert, attempt=attempt)
            if grade is not None:
                ops = self._users[OPERATIONS] if test.owner_id is None else self._users[LAB_ADMIN]
                for task in GradingTask.objects.filter(attempt_item__attempt=attempt, status=GradingTask.Status.OPEN):
                    assessments.grading_score(actor=ops, task=task, criterion_points=grade)
                attempt.refresh_from_db()
        if attempt.status == Attempt.Status.GRADED:
            outcome = f"graded {attempt.score:.0%}"
            if test.kind == Test.Kind.QUALIFICATION:
                outcome += ", passed and qualified" if attempt.passed else ", not passed"
        else:
            outcome = "awaiting grading"
        self._changes.append(f"attempt at '{test.title}' by {expert.email}: {outcome}")
        return attempt

    def _calibration_round(self, lab: Organization, test: Test) -> None:
        """A round of the calibration test across Meridian and Northwind, piloting the open project:
        each vendor's two experts take it (graded at once: every item is objective), then the lab
        closes it. Each step is skipped once done, so a run cut short is completed by the next."""
        users = self._users
        admin = users[LAB_ADMIN]
        round_ = CalibrationRound.objects.filter(lab=lab, title=A.ROUND_TITLE).first()
        if round_ is None:
            vendors = Organization.objects.filter(kind=OrgKind.VENDOR, name__in=[VENDOR_NAME, SECOND_VENDOR_NAME])
            round_ = calibration.calibration_round_create(
                actor=admin, lab=lab, test=test, title=A.ROUND_TITLE, deadline=timezone.now() + timedelta(days=7),
                suppliers=[v.public_id for v in vendors],
                pilot_project=Project.objects.filter(lab=lab, title=OPEN_TITLE).first(),
            )  # fmt: skip
            self._changes.append(f"calibration round '{round_.title}' opened by {admin.email}")
        if round_.status != CalibrationRound.Status.OPEN:
            return
        takers = (EXPERT1, EXPERT2, NORTHWIND1, NORTHWIND2)
        for demo in takers:
            if not calibration.calibration_round_can_attempt(round=round_, expert=users[demo]):
                self._warn(f"{demo.email} cannot take the calibration round")
                continue
            misses = A.CALIBRATION_MISSES[demo.email]
            self._attempt(users[demo], test, misses=misses, grade=None, round_=round_)
        graded = Attempt.objects.filter(calibration_round=round_, status=Attempt.Status.GRADED)
        if graded.values("expert").distinct().count() == len(takers):
            calibration.calibration_round_close(actor=admin, round=round_)
            self._changes.append(f"calibration round '{round_.title}' closed by {admin.email}")

    # --- output ----------------------------------------------------------------------------------

    def _print_summary(self) -> None:
        out = self.stdout
        out.write(f"Domain taxonomy (fixtures/domains.json): {self._taxonomy}")
        if self._changes:
            out.write(self.style.SUCCESS(f"Created {len(self._changes)} demo record(s):"))
            for change in self._changes:
                out.write(f"  + {change}")
        else:
            out.write("Demo data already present; nothing changed.")
        rows = []
        for demo in ALL_USERS:
            user = User.objects.get(email__iexact=demo.email)
            memberships = Membership.objects.filter(user=user).select_related("organization").order_by("id")
            where = ", ".join(f"{m.organization.name} ({m.organization.kind} {m.role})" for m in memberships)
            if user.staff_role:
                where = ", ".join(filter(None, [f"platform {user.staff_role}", where]))
            rows.append((user.email, where or "-"))
        width = max(len(email) for email, _ in rows)
        out.write("")
        out.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        out.write(f"  {'e-mail'.ljust(width)}  role")
        for email, where in rows:
            out.write(f"  {email.ljust(width)}  {where}")
