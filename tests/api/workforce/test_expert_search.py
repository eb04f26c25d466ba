"""GET /api/v1/experts/: filters, validation, scope and a query count independent of the page size."""

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.roles import OrgKind, Role
from apps.experts import services
from tests.factories import OrganizationFactory, member

from .conftest import in_days, submit_credential, verified_credential

URL = "/api/v1/experts/"


def handles(response):
    assert response.status_code == 200, response.content
    return {row["handle"] for row in response.json()["results"]}


def handle(user):
    return user.expert_profile.handle


def test_a_domain_matches_itself_and_its_sub_domains(lab_member, api_as, make_expert, domains):
    medic = make_expert("medic@x.test", domains=["medicine"])
    radiologist = make_expert("rad@x.test", domains=["radiology"])
    neuro = make_expert("neuro@x.test", domains=["neuroradiology"])
    lawyer = make_expert("law@x.test", domains=["law"])
    client = api_as(lab_member)

    assert handles(client.get(URL + "?domain=medicine")) == {handle(medic), handle(radiologist), handle(neuro)}
    assert handles(client.get(URL + "?domain=radiology")) == {handle(radiologist), handle(neuro)}
    assert handles(client.get(URL + "?domain=law")) == {handle(lawyer)}


def test_an_unknown_domain_is_a_400_naming_domain(lab_member, api_as, domains):
    response = api_as(lab_member).get(URL + "?domain=astrology")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["domain"]


def test_malformed_parameters_are_400s_naming_each_parameter(lab_member, api_as):
    response = api_as(lab_member).get(URL + "?min_weekly_hours=many&country=Germany&language=xx&credential_type=x")

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"min_weekly_hours", "country", "language", "credential_type"}


def test_the_credential_type_filter_counts_only_verified_unexpired_credentials(
    lab_member, operations, api_as, make_expert
):
    verified = make_expert("verified@x.test")
    verified_credential(verified, operations)
    pending = make_expert("pending@x.test")
    submit_credential(pending)
    rejected = make_expert("rejected@x.test")
    services.credential_reject(actor=operations, credential=submit_credential(rejected), reason="Illegible scan")
    expiring = make_expert("expiring@x.test")
    verified_credential(expiring, operations, expires_on=in_days(10))
    other_type = make_expert("degree@x.test")
    verified_credential(other_type, operations, type="degree", title="MD")
    client = api_as(lab_member)

    assert handles(client.get(URL + "?credential_type=board_certification")) == {
        handle(verified),
        handle(expiring),
    }
    # Past the expiry date, before the daily expiry task has run: verified in the database, but no longer counted.
    with time_machine.travel(timezone.now() + timezone.timedelta(days=11)):
        assert handles(client.get(URL + "?credential_type=board_certification")) == {handle(verified)}


def test_country_language_and_hours_filters(lab_member, api_as, make_expert):
    berliner = make_expert("de@x.test", country="DE", languages=["de", "en"], weekly_hours=30)
    parisian = make_expert("fr@x.test", country="FR", languages=["fr"], weekly_hours=10)
    client = api_as(lab_member)

    assert handles(client.get(URL + "?country=de")) == {handle(berliner)}
    assert handles(client.get(URL + "?language=fr")) == {handle(parisian)}
    assert handles(client.get(URL + "?language=en")) == {handle(berliner)}
    assert handles(client.get(URL + "?min_weekly_hours=20")) == {handle(berliner)}


def test_undiscoverable_experts_are_not_found(lab_member, api_as, make_expert):
    hidden = make_expert("hidden@x.test", is_discoverable=False)
    client = api_as(lab_member)

    assert handle(hidden) not in handles(client.get(URL))
    response = client.get(f"{URL}{hidden.expert_profile.public_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "expert_not_found"


def test_a_search_result_has_the_documented_shape(lab_member, operations, api_as, make_expert, domains):
    expert = make_expert(
        "shape@x.test",
        domains=["radiology"],
        languages=["en"],
        country="DE",
        timezone="Europe/Berlin",
        weekly_hours=20,
        hourly_rate="85.50",
        rate_currency="EUR",
        bio="Ten years of reading CTs.",
    )
    verified_credential(expert, operations, identifier="LIC-123", jurisdiction="Bavaria", expires_on=in_days(400))

    row = api_as(lab_member).get(URL).json()["results"][0]

    assert row == {
        "id": str(expert.expert_profile.public_id),
        "handle": handle(expert),
        "headline": "Radiologist",
        "bio": "Ten years of reading CTs.",
        "domains": [{"slug": "radiology", "name": "Radiology"}],
        "languages": ["en"],
        "country": "DE",
        "timezone": "Europe/Berlin",
        "weekly_hours": 20,
        "hourly_rate": {"amount": "85.50", "currency": "EUR"},
        "verified_credentials": [
            {
                "type": "board_certification",
                "title": "Board certified",
                "issuer": "ABR",
                "jurisdiction": "Bavaria",
                "expires_on": in_days(400).isoformat(),
                "verified_at": row["verified_credentials"][0]["verified_at"],
            }
        ],
        "identity_visible": False,
    }


def test_the_detail_has_the_same_shape_as_a_search_row(lab_member, api_as, make_expert):
    expert = make_expert("detail@x.test")
    client = api_as(lab_member)

    row = client.get(URL).json()["results"][0]
    detail = client.get(f"{URL}{expert.expert_profile.public_id}/")

    assert detail.status_code == 200
    assert detail.json() == row


def test_the_number_of_queries_does_not_grow_with_the_page_size(
    lab_member, operations, api_as, make_expert, domains, django_assert_max_num_queries
):
    for n in range(4):
        expert = make_expert(f"e{n}@x.test", domains=["radiology", "law"], languages=["en"])
        verified_credential(expert, operations, title=f"Cert {n}")
        verified_credential(expert, operations, type="degree", title=f"MD {n}")
    client = api_as(lab_member)
    client.get(URL + "?page_size=1")  # warm the session and content-type caches

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(URL + "?page_size=1").json()["results"]) == 1
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get(URL + "?page_size=50").json()["results"]) == 4


def test_a_vendor_expert_may_not_search(expert, api_as):
    response = api_as(expert).get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


def test_someone_without_an_organisation_is_not_found(api_as, make_expert):
    loner = make_expert("loner@x.test")

    assert api_as(loner).get(URL).status_code == 404


def test_org_naming_an_organisation_the_caller_is_not_in_is_a_404(lab_member, vendor, api_as):
    response = api_as(lab_member).get(f"{URL}?org={vendor.public_id}")

    assert response.status_code == 404


def test_a_malformed_org_is_a_400_naming_org(lab_member, api_as):
    response = api_as(lab_member).get(f"{URL}?org=acme")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["org"]


def test_an_api_key_acts_only_for_its_organisation(lab, lab_owner, vendor, key_client):
    other_lab = OrganizationFactory(kind=OrgKind.LAB)
    member(other_lab, Role.OWNER, email="x@other.test")
    client = key_client(lab_owner, lab)

    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}?org={lab.public_id}").status_code == 200
    assert client.get(f"{URL}?org={vendor.public_id}").status_code == 404
    assert client.get(f"{URL}?org={other_lab.public_id}").status_code == 404
