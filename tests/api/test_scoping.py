"""Every read is scoped: an API key reaches only its organisation, and outsiders get 404, never data."""

import uuid

import pytest
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.roles import OrgKind, Role
from tests.factories import member


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def second_org(lab_owner):
    """A second organisation owned by the lab owner."""
    return services.organization_create(actor=lab_owner, name="Acme Side Project", kind=OrgKind.LAB)


def ids(response):
    return [item["id"] for item in response.json()["results"]]


# --- me and organisations --------------------------------------------------------------------------


def test_me_with_a_session_lists_every_membership(lab, second_org, lab_owner, api_as):
    response = api_as(lab_owner).get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "id": str(lab_owner.public_id),
        "email": lab_owner.email,
        "full_name": lab_owner.full_name,
        "staff_role": "",
    }
    orgs = {m["organization"]["id"]: m["role"] for m in body["memberships"]}
    assert orgs == {str(lab.public_id): "owner", str(second_org.public_id): "owner"}
    assert body["memberships"][0]["organization"].keys() == {"id", "name", "slug", "kind"}
    assert body["api_key"] is None


def test_me_with_an_api_key_lists_only_the_keys_organisation_and_names_the_key(
    lab, second_org, lab_owner, make_api_key
):
    key, raw = make_api_key(lab_owner, lab, name="nightly export")

    body = bearer(raw).get("/api/v1/me/").json()

    assert [m["organization"]["id"] for m in body["memberships"]] == [str(lab.public_id)]
    assert body["api_key"]["name"] == "nightly export"
    assert body["api_key"]["prefix"] == key.prefix
    assert "key" not in body["api_key"] and "key_hash" not in body["api_key"]


def test_me_shows_a_staff_role(finance, api_as):
    body = api_as(finance).get("/api/v1/me/").json()

    assert body["user"]["staff_role"] == "finance"
    assert body["memberships"] == []


def test_organizations_lists_only_mine(lab, lab_owner, outsider, second_org, api_as):
    response = api_as(lab_owner).get("/api/v1/organizations/")

    assert response.status_code == 200
    assert set(ids(response)) == {str(lab.public_id), str(second_org.public_id)}
    assert response.json()["next"] is None


def test_organizations_with_an_api_key_lists_only_the_keys_organisation(lab, second_org, lab_owner, make_api_key):
    _key, raw = make_api_key(lab_owner, lab)

    assert ids(bearer(raw).get("/api/v1/organizations/")) == [str(lab.public_id)]


def test_an_api_key_gets_404_for_another_organisation_of_its_creator(lab, second_org, lab_owner, make_api_key):
    _key, raw = make_api_key(lab_owner, lab)
    client = bearer(raw)
    base = f"/api/v1/organizations/{second_org.public_id}"

    for path in (f"{base}/", f"{base}/members/", f"{base}/invitations/", f"{base}/api-keys/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "organization_not_found"
    assert client.post(f"{base}/invitations/", {"email": "x@y.test", "role": "member"}).status_code == 404
    assert client.post(f"{base}/api-keys/", {"name": "sneaky"}).status_code == 404


def test_organization_detail_for_a_member(lab, lab_member, api_as):
    response = api_as(lab_member).get(f"/api/v1/organizations/{lab.public_id}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(lab.public_id),
        "name": lab.name,
        "slug": lab.slug,
        "kind": "lab",
        "created_at": response.json()["created_at"],
    }


def test_organizations_filter_by_kind(lab, lab_owner, api_as):
    services.organization_create(actor=lab_owner, name="Acme Vendor Arm", kind=OrgKind.VENDOR)

    response = api_as(lab_owner).get("/api/v1/organizations/?kind=vendor")

    assert [o["kind"] for o in response.json()["results"]] == ["vendor"]


# --- outsiders -------------------------------------------------------------------------------------


@pytest.fixture
def lab_objects(lab, lab_owner, lab_member, make_api_key):
    """One member, invitation and API key of the lab (the outsider must not reach them)."""
    invitation, _token = services.invitation_create(
        actor=lab_owner, organization=lab, email="invitee@acme.test", role=Role.MEMBER
    )
    key, _raw = make_api_key(lab_owner, lab)
    return {
        "member": lab_member.memberships.get(organization=lab),
        "invitation": invitation,
        "key": key,
    }


_LAB_PATHS = [
    ("get", "/api/v1/organizations/{org}/"),
    ("get", "/api/v1/organizations/{org}/members/"),
    ("patch", "/api/v1/organizations/{org}/members/{member}/"),
    ("delete", "/api/v1/organizations/{org}/members/{member}/"),
    ("get", "/api/v1/organizations/{org}/invitations/"),
    ("post", "/api/v1/organizations/{org}/invitations/"),
    ("post", "/api/v1/organizations/{org}/invitations/{invitation}/revoke/"),
    ("get", "/api/v1/organizations/{org}/api-keys/"),
    ("post", "/api/v1/organizations/{org}/api-keys/"),
    ("post", "/api/v1/organizations/{org}/api-keys/{key}/revoke/"),
]
# Through the lab's id, and (for paths naming an object) through the outsider's own org id
# with the lab's object ids.
_CASES = [(m, p, "lab") for m, p in _LAB_PATHS] + [(m, p, "outsiders_own") for m, p in _LAB_PATHS if p.count("{") > 1]


@pytest.mark.parametrize("method,path,org_of", _CASES)
def test_an_outsider_gets_404_for_another_organisations_objects(
    lab, outsider, lab_objects, api_as, method, path, org_of
):
    own_org = outsider.memberships.get().organization
    org = lab if org_of == "lab" else own_org
    url = path.format(
        org=org.public_id,
        member=lab_objects["member"].public_id,
        invitation=lab_objects["invitation"].public_id,
        key=lab_objects["key"].public_id,
    )
    body = {"role": "admin"} if method == "patch" else {"email": "x@other.test", "role": "member"}
    if path.endswith("/api-keys/"):
        body = {"name": "sneaky"}

    response = getattr(api_as(outsider), method)(url, body if method in ("post", "patch") else None)

    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"].endswith("not_found")
    lab_objects["member"].refresh_from_db()
    assert lab_objects["member"].role == Role.MEMBER
    lab_objects["invitation"].refresh_from_db()
    assert lab_objects["invitation"].status == "pending"
    lab_objects["key"].refresh_from_db()
    assert lab_objects["key"].status == "active"


def test_platform_staff_have_no_access_to_customer_organisations(lab, finance, operations, api_as):
    for user in (finance, operations):
        assert api_as(user).get(f"/api/v1/organizations/{lab.public_id}/").status_code == 404


def test_an_unknown_organisation_id_is_404(lab_owner, api_as):
    response = api_as(lab_owner).get(f"/api/v1/organizations/{uuid.uuid4()}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "organization_not_found"


def test_a_malformed_id_is_404(lab_owner, api_as):
    assert api_as(lab_owner).get("/api/v1/organizations/12/").status_code == 404


def test_the_vendor_sees_nothing_of_the_lab(lab, vendor_manager, api_as):
    response = api_as(vendor_manager).get("/api/v1/organizations/")

    assert str(lab.public_id) not in ids(response)
    assert api_as(vendor_manager).get(f"/api/v1/organizations/{lab.public_id}/members/").status_code == 404


def test_a_member_of_both_sides_sees_both(lab, vendor, lab_owner, api_as):
    person = member(vendor, Role.EXPERT, email="both@acme.test")
    services.organization_create(actor=person, name="Solo", kind=OrgKind.INDIVIDUAL)

    kinds = sorted(o["kind"] for o in api_as(person).get("/api/v1/organizations/").json()["results"])

    assert kinds == ["individual", "vendor"]
