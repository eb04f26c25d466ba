"""Every error answers with one envelope: {"error": {"code", "message", "details"}}."""

import json


def invitations_url(org):
    return f"/api/v1/organizations/{org.public_id}/invitations/"


def test_a_missing_field_is_named_in_details(lab, lab_admin, api_as):
    response = api_as(lab_admin).post(invitations_url(lab), {"role": "member"})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "email: This field is required.",
            "details": {"email": ["This field is required."]},
        }
    }


def test_malformed_json_is_a_400_parse_error(lab, lab_admin, api_as):
    response = api_as(lab_admin).post(invitations_url(lab), data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_form_body_is_a_415(lab, lab_admin, api_as):
    response = api_as(lab_admin).post(
        invitations_url(lab), data="email=a%40b.test&role=member", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_a_json_array_body_is_refused(lab, lab_admin, api_as):
    response = api_as(lab_admin).post(invitations_url(lab), data=json.dumps([1]), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_an_unsupported_method_is_a_405(lab, lab_admin, api_as):
    response = api_as(lab_admin).put(invitations_url(lab), {})

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
