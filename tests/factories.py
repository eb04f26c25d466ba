import hashlib
from datetime import timedelta

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
