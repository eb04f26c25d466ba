"""A new lab signs up in a real browser, confirms its e-mail and lands on its dashboard."""

import re

import pytest
from django.core import mail

from apps.accounts.models import Membership
from apps.accounts.roles import OrgKind, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONFIRM_LINK = re.compile(r"https?://[^\s]+/accounts/confirm-email/[^\s/]+/")


def test_new_lab_signs_up_confirms_email_and_sees_its_dashboard(live_server, page):
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))

    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_full_name", "Rosalind Franklin")
    page.fill("#id_email", "rosalind@helix-lab.test")
    page.fill("#id_password1", "double-helix-photo-51")
    page.fill("#id_password2", "double-helix-photo-51")
    page.check("input[name=account_type][value=lab]")
    page.fill("#id_organization_name", "Helix Lab")
    page.click("button[type=submit]:has-text('Create account')")

    page.wait_for_url("**/accounts/confirm-email/")
    assert "Verify Your Email Address" in page.content()
    assert len(mail.outbox) == 1
    link = CONFIRM_LINK.search(mail.outbox[0].body).group(0)

    page.goto(link)
    page.click("button[type=submit]:has-text('Confirm')")

    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Helix Lab"
    assert "Lab dashboard" in page.content()
    assert "Post your first data project" in page.content()
    membership = Membership.objects.select_related("organization").get(user__email="rosalind@helix-lab.test")
    assert membership.role == Role.OWNER
    assert membership.organization.kind == OrgKind.LAB
    assert console_errors == []
