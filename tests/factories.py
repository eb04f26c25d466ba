import hashlib
from datetime import timedelta
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.accounts.models import Membership, Organization, User
from apps.accounts.roles import OrgKind, Role
from apps.experts.models import Credential, CredentialType, Domain, ExpertProfile, RosterEntry
from apps.experts.services import _normalise as normalise_key

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        """Users come with a verified primary e-mail, as after allauth's confirmation."""
        obj.save()
        if create and extracted is not False:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(user=obj, email=obj.email, defaults={"verified": True, "primary": True})


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = OrgKind.LAB


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.OWNER


def member(org: Organization, role: str, **user_kwargs) -> User:
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, organization=org, role=role)
    return user


# --- Workforce: domains, expert profiles, credentials, rosters ------------------------------------------

# The smallest PDF a reader opens: a catalog with an empty page tree.
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def pdf_upload(name: str = "licence.pdf", content: bytes = MINIMAL_PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class DomainFactory(DjangoModelFactory):
    """A taxonomy node; pass ``parent=`` for a sub-domain (its path is derived)."""

    class Meta:
        model = Domain
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"domain-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    parent = None
    path = factory.LazyAttribute(lambda o: f"{o.parent.path}/{o.slug}" if o.parent else o.slug)


class ExpertProfileFactory(DjangoModelFactory):
    class Meta:
        model = ExpertProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    headline = "Radiologist, 12 years of reading CT and MRI"
    languages = factory.LazyFunction(lambda: ["en"])
    country = "DE"
    timezone = "Europe/Berlin"
    weekly_hours = 20

    @factory.post_generation
    def domains(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.domains.set(extracted)


class CredentialFactory(DjangoModelFactory):
    """A pending credential whose evidence is a real (tiny) PDF in storage. ``verified=True`` for a
    verified one; set MEDIA_ROOT to a temporary directory in tests that use it."""

    class Meta:
        model = Credential

    class Params:
        verified = factory.Trait(
            status=Credential.Status.VERIFIED,
            verified_at=factory.LazyFunction(timezone.now),
        )

    profile = factory.SubFactory(ExpertProfileFactory)
    type = CredentialType.PROFESSIONAL_LICENCE
    title = "Board certified, diagnostic radiology"
    issuer = "State Medical Board"
    identifier = factory.Sequence(lambda n: f"LIC-{n:06d}")
    issuer_key = factory.LazyAttribute(lambda o: normalise_key(o.issuer))
    identifier_key = factory.LazyAttribute(lambda o: normalise_key(o.identifier))
    evidence = factory.LazyFunction(pdf_upload)
    evidence_name = "licence.pdf"
    evidence_content_type = "application/pdf"
    evidence_extension = "pdf"
    evidence_size = len(MINIMAL_PDF)
    evidence_sha256 = hashlib.sha256(MINIMAL_PDF).hexdigest()
    status = Credential.Status.PENDING


class RosterEntryFactory(DjangoModelFactory):
    """A roster entry; an active or suspended one also gets the vendor ``expert`` membership."""

    class Meta:
        model = RosterEntry
        skip_postgeneration_save = True

    vendor = factory.SubFactory(OrganizationFactory, kind=OrgKind.VENDOR)
    user = factory.SubFactory(UserFactory)
    status = RosterEntry.Status.INVITED
    invite_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    joined_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status in (RosterEntry.Status.ACTIVE, RosterEntry.Status.SUSPENDED) else None
    )

    @factory.post_generation
    def membership(obj, create, extracted, **kwargs):
        if create and obj.status in (RosterEntry.Status.ACTIVE, RosterEntry.Status.SUSPENDED):
            Membership.objects.get_or_create(user=obj.user, organization=obj.vendor, defaults={"role": Role.EXPERT})


# --- Projects and bidding ---------------------------------------------------------------------------


class ProjectFactory(DjangoModelFactory):
    """A complete draft project with guidelines v1: ``project_publish`` accepts it as it is.

    ``published=True`` gives an open project (published a minute ago). ``guidelines=False`` leaves
    out the guideline version; ``invited=[org, ...]`` sets the invited organisations."""

    class Meta:
        model = "projects.Project"
        skip_postgeneration_save = True

    class Params:
        published = factory.Trait(
            status="open",
            published_at=factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1)),
        )

    lab = factory.SubFactory(OrganizationFactory, kind=OrgKind.LAB)
    title = factory.Sequence(lambda n: f"Radiology report preferences {n}")
    description = "Pairwise preferences between two draft radiology reports for the same study."
    task_type = "preference_comparison"
    domain = factory.SubFactory(DomainFactory)
    required_credential_types = factory.LazyFunction(lambda: [CredentialType.BOARD_CERTIFICATION.value])
    unit_name = "comparison"
    volume = 1000
    currency = "USD"
    budget_cap_minor = 500_000  # 5,000.00 USD
    target_unit_price = Decimal("2.5000")
    sla_min_gold_accuracy = Decimal("0.8000")
    sla_min_alpha = Decimal("0.6000")
    sla_max_turnaround_days = 3
    bid_deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
    starts_on = factory.LazyAttribute(lambda o: o.bid_deadline.date() + timedelta(days=7))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + timedelta(days=60))
    visibility = "public"
    status = "draft"

    @factory.post_generation
    def guidelines(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            from apps.projects.markdown import render_markdown
            from apps.projects.models import GuidelineVersion

            body = extracted or "# Guidelines\n\nPrefer the report that is **clinically correct**."
            obj.current_guideline = GuidelineVersion.objects.create(
                project=obj, number=1, body_markdown=body, body_html=render_markdown(body)
            )
            type(obj).objects.filter(pk=obj.pk).update(current_guideline=obj.current_guideline)

    @factory.post_generation
    def invited(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.invited_organizations.set(extracted)


class BidFactory(DjangoModelFactory):
    """A submitted bid (revision 1) on an open project, by a vendor whose team is one active roster
    expert. Pass ``team=[user, ...]`` for another team; an individual bidder's team is its owner."""

    class Meta:
        model = "bidding.Bid"
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory, published=True)
    bidder = factory.SubFactory(OrganizationFactory, kind=OrgKind.VENDOR)
    status = "submitted"
    revision_number = 1
    unit_price = Decimal("2.0000")
    currency = factory.LazyAttribute(lambda o: o.project.currency)
    volume = factory.LazyAttribute(lambda o: o.project.volume or 100)
    weekly_capacity = 250
    starts_on = factory.LazyAttribute(lambda o: o.project.starts_on or timezone.localdate() + timedelta(days=30))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + timedelta(days=30))
    proposal = "Two board-certified radiologists, double review on every comparison."

    @factory.post_generation
    def team(obj, create, extracted, **kwargs):
        if not create:
            return
        from apps.bidding.models import BidRevision

        if extracted is not None:
            members = list(extracted)
        elif obj.bidder.kind == OrgKind.INDIVIDUAL:
            members = list(User.objects.filter(memberships__organization=obj.bidder, memberships__role=Role.OWNER))
        else:
            members = [RosterEntryFactory(vendor=obj.bidder, status=RosterEntry.Status.ACTIVE).user]
        revision = BidRevision.objects.create(
            bid=obj, number=obj.revision_number, submitted_by=obj.submitted_by, unit_price=obj.unit_price,
            volume=obj.volume, weekly_capacity=obj.weekly_capacity, starts_on=obj.starts_on, ends_on=obj.ends_on,
            proposal=obj.proposal,
        )  # fmt: skip
        revision.team.set(members)


# --- Contracts and delivered work -----------------------------------------------------------------------------


CONTRACT_TERMS = {
    "unit_rate": Decimal("2.0000"),
    "currency": "USD",
    "volume_cap": 10_000,
    "budget_cap_minor": 2_000_000,  # 20,000.00 USD
    "quality_pay": [["0.95", "1.10"], ["0.85", "1.00"], ["0.75", "0.90"]],
    "label_set": ["A", "B", "tie"],
    "review_window_days": 5,
    "appeal_window_days": 7,
}


class ContractFactory(DjangoModelFactory):
    """An ACTIVE contract between the project's lab and a vendor, with v1 terms EFFECTIVE and in force.

    ``terms={...}`` overrides any of ``CONTRACT_TERMS`` (e.g. ``terms={"label_set": ["yes", "no"]}``).
    Built directly, without the contracts services (no signatures, no gates)."""

    class Meta:
        model = "contracts.Contract"
        skip_postgeneration_save = True

    project = factory.SubFactory(
        ProjectFactory, status="in_progress", published_at=factory.LazyFunction(lambda: timezone.now())
    )
    lab = factory.LazyAttribute(lambda o: o.project.lab)
    supplier = factory.SubFactory(OrganizationFactory, kind=OrgKind.VENDOR)
    status = "active"

    @factory.post_generation
    def terms(obj, create, extracted, **kwargs):
        if not create:
            return
        from apps.contracts.models import ContractVersion

        terms = {**CONTRACT_TERMS, **(extracted or {})}
        starts_on = terms.pop("starts_on", timezone.localdate())
        version = ContractVersion.objects.create(
            contract=obj,
            number=1,
            status="effective",
            starts_on=starts_on,
            ends_on=terms.pop("ends_on", starts_on + timedelta(days=90)),
            effective_from=starts_on,
            terms_hash=hashlib.sha256(repr(sorted(terms.items())).encode()).hexdigest(),
            **terms,
        )
        obj.current_version = version
        obj.save(update_fields=["current_version", "updated_at"])


class AssignmentFactory(DjangoModelFactory):
    """An ACTIVE assignment of an expert (who gets an expert profile) to a contract; no gates checked."""

    class Meta:
        model = "contracts.Assignment"
        skip_postgeneration_save = True

    contract = factory.SubFactory(ContractFactory)
    expert = factory.SubFactory(UserFactory)
    status = "active"

    @factory.post_generation
    def profile(obj, create, extracted, **kwargs):
        if create:
            ExpertProfile.objects.get_or_create(user=obj.expert)
