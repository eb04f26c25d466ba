"""expert_search: filters, who may search, who sees the person behind a profile, constant queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.experts import services
from apps.experts.models import Credential, CredentialType
from apps.experts.selectors import ExpertSearch, expert_get, expert_search, identity_visible_to
from tests.factories import CredentialFactory, ExpertProfileFactory, RosterEntryFactory, UserFactory

R = Credential.Status


def handles(actor, organization, **search) -> set[str]:
    return {p.handle for p in expert_search(actor=actor, organization=organization, search=ExpertSearch(**search))}


def profile(handle, **fields):
    return ExpertProfileFactory(handle=handle, **fields)


def verified_credential(profile, **fields):
    return CredentialFactory(profile=profile, verified=True, **fields)


# --- filters ---------------------------------------------------------------------------------------------


def test_a_domain_matches_its_sub_domains(lab, lab_member, domains):
    profile("ex-radiology", domains=[domains.radiology])
    profile("ex-medicine", domains=[domains.medicine])
    profile("ex-law", domains=[domains.law])

    assert handles(lab_member, lab, domain="medicine") == {"ex-radiology", "ex-medicine"}
    assert handles(lab_member, lab, domain="radiology") == {"ex-radiology"}
    assert handles(lab_member, lab, domain="law") == {"ex-law"}


def test_an_expert_in_two_matching_domains_appears_once(lab, lab_member, domains):
    profile("ex-both", domains=[domains.medicine, domains.radiology])

    results = list(expert_search(actor=lab_member, organization=lab, search=ExpertSearch(domain="medicine")))

    assert [p.handle for p in results] == ["ex-both"]


def test_an_unknown_domain_is_refused_naming_the_domain(lab, lab_member, domains):
    with pytest.raises(ValidationFailed) as exc:
        handles(lab_member, lab, domain="alchemy")

    assert "domain" in exc.value.details


def test_credential_type_counts_only_verified_unexpired_credentials(lab, lab_member):
    today = timezone.localdate()
    verified_credential(profile("ex-verified"), type=CredentialType.PROFESSIONAL_LICENCE)
    verified_credential(
        profile("ex-expires-later"), type=CredentialType.PROFESSIONAL_LICENCE, expires_on=today + timedelta(days=1)
    )
    CredentialFactory(profile=profile("ex-pending"), type=CredentialType.PROFESSIONAL_LICENCE)
    CredentialFactory(
        profile=profile("ex-revoked"),
        type=CredentialType.PROFESSIONAL_LICENCE,
        status=R.REVOKED,
        verified_at=timezone.now(),
    )
    # still "verified" because the daily task has not run yet, but past its expiry date
    verified_credential(
        profile("ex-lapsed"), type=CredentialType.PROFESSIONAL_LICENCE, expires_on=today - timedelta(days=1)
    )
    verified_credential(profile("ex-expires-today"), type=CredentialType.PROFESSIONAL_LICENCE, expires_on=today)
    verified_credential(profile("ex-degree"), type=CredentialType.DEGREE)

    assert handles(lab_member, lab, credential_type=CredentialType.PROFESSIONAL_LICENCE) == {
        "ex-verified",
        "ex-expires-later",
    }


def test_results_carry_only_verified_unexpired_credentials(lab, lab_member):
    expert = profile("ex-mixed")
    good = verified_credential(expert, title="Licence")
    CredentialFactory(profile=expert, title="Pending claim")
    verified_credential(expert, title="Lapsed", expires_on=timezone.localdate() - timedelta(days=3))

    (result,) = expert_search(actor=lab_member, organization=lab, search=ExpertSearch())

    assert [c.pk for c in result.verified_credentials] == [good.pk]


def test_country_language_and_weekly_hours_filters(lab, lab_member):
    profile("ex-de", country="DE", languages=["en", "de"], weekly_hours=40)
    profile("ex-fr", country="FR", languages=["fr"], weekly_hours=10)
    profile("ex-en", country="GB", languages=["en"], weekly_hours=20)

    assert handles(lab_member, lab, country="de") == {"ex-de"}
    assert handles(lab_member, lab, language="DE") == {"ex-de"}
    assert handles(lab_member, lab, language="en") == {"ex-de", "ex-en"}
    assert handles(lab_member, lab, language="e") == set()
    assert handles(lab_member, lab, min_weekly_hours=20) == {"ex-de", "ex-en"}
    assert handles(lab_member, lab, min_weekly_hours=0) == {"ex-de", "ex-fr", "ex-en"}
    assert handles(lab_member, lab, country="DE", language="fr") == set()


def test_non_discoverable_profiles_and_deactivated_accounts_are_excluded(lab, lab_member):
    profile("ex-visible")
    profile("ex-hidden", is_discoverable=False)
    profile("ex-gone", user=UserFactory(is_active=False))

    assert handles(lab_member, lab) == {"ex-visible"}


# --- who may search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["lab_owner", "lab_admin", "lab_member"])
def test_lab_members_may_search(request, lab, persona):
    profile("ex-one")

    assert handles(request.getfixturevalue(persona), lab) == {"ex-one"}


def test_a_vendor_manager_may_search(vendor, vendor_manager):
    profile("ex-one")

    assert handles(vendor_manager, vendor) == {"ex-one"}


def test_a_vendor_expert_may_not_search(vendor, expert):
    with pytest.raises(PermissionDenied):
        handles(expert, vendor)


def test_someone_without_an_organisation_may_not_search(db):
    with pytest.raises(NotFound):
        handles(UserFactory(), None)


def test_searching_for_an_organisation_one_does_not_belong_to_is_refused(lab, outsider):
    with pytest.raises(NotFound):
        handles(outsider, lab)


@pytest.mark.parametrize("persona", ["finance"])
def test_other_platform_staff_may_not_search(request, persona):
    with pytest.raises(NotFound):
        handles(request.getfixturevalue(persona), None)


def test_operations_may_search_without_an_organisation_and_see_identities(operations):
    profile("ex-one")

    (result,) = expert_search(actor=operations, organization=None, search=ExpertSearch())

    assert result.handle == "ex-one"
    assert result.identity_visible is True


# --- identity visibility ---------------------------------------------------------------------------------------


def visibility(actor, organization) -> dict[str, bool]:
    return {
        p.handle: p.identity_visible
        for p in expert_search(actor=actor, organization=organization, search=ExpertSearch())
    }


def test_a_lab_never_sees_who_is_behind_a_profile(lab, lab_member, vendor):
    expert = profile("ex-rostered")
    RosterEntryFactory(vendor=vendor, user=expert.user, status="active")

    assert visibility(lab_member, lab) == {"ex-rostered": False}
    assert identity_visible_to(actor=lab_member, organization=lab, profile=expert) is False


@pytest.mark.parametrize(("status", "visible"), [("invited", True), ("active", True), ("suspended", True)])
def test_a_vendor_sees_the_identity_of_experts_on_its_roster(vendor, vendor_manager, status, visible):
    rostered = profile("ex-rostered")
    profile("ex-stranger")
    RosterEntryFactory(vendor=vendor, user=rostered.user, status=status)

    assert visibility(vendor_manager, vendor) == {"ex-rostered": visible, "ex-stranger": False}
    assert identity_visible_to(actor=vendor_manager, organization=vendor, profile=rostered) is visible


def test_a_vendor_no_longer_sees_an_expert_it_offboarded(vendor, vendor_manager):
    rostered = profile("ex-rostered")
    entry = RosterEntryFactory(vendor=vendor, user=rostered.user, status="active")

    services.roster_offboard(actor=vendor_manager, entry=entry, reason="Contract ended")

    assert visibility(vendor_manager, vendor) == {"ex-rostered": False}
    assert identity_visible_to(actor=vendor_manager, organization=vendor, profile=rostered) is False


def test_another_vendors_roster_does_not_reveal_the_identity(vendor, vendor_manager):
    rostered = profile("ex-elsewhere")
    RosterEntryFactory(user=rostered.user, status="active")  # on some other vendor's roster

    assert visibility(vendor_manager, vendor) == {"ex-elsewhere": False}


def test_an_expert_always_sees_their_own_identity(db):
    own = profile("ex-self")

    assert identity_visible_to(actor=own.user, organization=None, profile=own) is True


# --- expert_get ---------------------------------------------------------------------------------------------------


def test_expert_get_returns_a_discoverable_profile_and_hides_the_rest(lab, lab_member):
    shown = profile("ex-shown")
    hidden = profile("ex-hidden", is_discoverable=False)

    assert expert_get(actor=lab_member, organization=lab, public_id=shown.public_id).pk == shown.pk
    for public_id in (hidden.public_id, "not-a-uuid"):
        with pytest.raises(NotFound):
            expert_get(actor=lab_member, organization=lab, public_id=public_id)


# --- query count ----------------------------------------------------------------------------------------------------


def make_experts(n: int, domains) -> None:
    for _ in range(n):
        expert = ExpertProfileFactory(domains=[domains.radiology, domains.law])
        verified_credential(expert, type=CredentialType.PROFESSIONAL_LICENCE)
        verified_credential(expert, type=CredentialType.DEGREE)
        CredentialFactory(profile=expert)


def render_results(actor_pk: int, vendor) -> int:
    """What a results page touches: the person, the domains with parents, the credentials, visibility."""
    actor = User.objects.get(pk=actor_pk)  # a fresh request: no membership cache
    results = expert_search(actor=actor, organization=vendor, search=ExpertSearch(domain="medicine"))
    rows = [
        (
            p.handle,
            p.user.email if p.identity_visible else None,
            [d.label for d in p.domains.all()],
            [c.title for c in p.verified_credentials],
        )
        for p in results
    ]
    return len(rows)


def test_search_query_count_does_not_grow_with_the_number_of_results(
    vendor, vendor_manager, domains, django_assert_max_num_queries
):
    make_experts(3, domains)
    with CaptureQueriesContext(connection) as three:
        assert render_results(vendor_manager.pk, vendor) == 3

    assert len(three) <= 8, [q["sql"] for q in three.captured_queries]
    make_experts(27, domains)
    with django_assert_max_num_queries(len(three)):
        assert render_results(vendor_manager.pk, vendor) == 30
