"""Guidelines: numbered versions, sanitised HTML, acknowledgements and the re-read notice."""

import pytest

from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.projects import selectors, services
from apps.projects.markdown import render_markdown
from apps.projects.models import GuidelineAcknowledgement, GuidelineVersion
from tests.factories import ProjectFactory
from tests.projects.support import audit_rows, kinds_for


@pytest.fixture
def bare(lab, domains):
    """A draft without guidelines yet."""
    return ProjectFactory(lab=lab, domain=domains.radiology, guidelines=False)


# --- guideline_publish ----------------------------------------------------------------------------------


def test_guideline_versions_are_numbered_one_two_three(bare, lab_admin):
    v1 = services.guideline_publish(actor=lab_admin, project=bare, body_markdown="First")
    v2 = services.guideline_publish(actor=lab_admin, project=bare, body_markdown="Second", change_summary="More")
    v3 = services.guideline_publish(actor=lab_admin, project=bare, body_markdown="Third", change_summary="Again")

    assert [v.number for v in (v1, v2, v3)] == [1, 2, 3]
    assert selectors.latest_guideline(bare) == v3
    assert (v1.published_by, v1.body_html) == (lab_admin, "<p>First</p>")
    for version in (v1, v2, v3):
        (row,) = audit_rows(version)
        assert (row.action, row.actor, row.data) == ("guideline.published", lab_admin, {"number": version.number})


def test_guideline_publish_needs_a_change_summary_from_version_two(bare, lab_admin):
    services.guideline_publish(actor=lab_admin, project=bare, body_markdown="First")

    with pytest.raises(ValidationFailed) as exc:
        services.guideline_publish(actor=lab_admin, project=bare, body_markdown="Second", change_summary="  ")

    assert list(exc.value.details) == ["change_summary"]
    assert list(bare.guideline_versions.values_list("number", flat=True)) == [1]


@pytest.mark.parametrize("body", ["", "   \n"])
def test_guideline_publish_without_a_body_is_refused(bare, lab_admin, body):
    with pytest.raises(ValidationFailed) as exc:
        services.guideline_publish(actor=lab_admin, project=bare, body_markdown=body)

    assert list(exc.value.details) == ["body_markdown"]
    assert not GuidelineVersion.objects.exists()


MALICIOUS = """# Rubric

<script>alert('xss')</script>

<img src="x" onerror="alert(1)">

<p onclick="steal()">Click me</p>

[Read more](javascript:alert(document.cookie)) and [the spec](https://example.test/spec)

<iframe src="https://evil.test"></iframe>

| Score | Meaning |
|-------|---------|
| 1     | Wrong   |

Use `label_id` exactly:

    def score(a, b):
        return a > b
"""


def test_guidelines_are_stored_as_sanitised_html(bare, lab_admin):
    version = services.guideline_publish(actor=lab_admin, project=bare, body_markdown=MALICIOUS)

    html = version.body_html
    for never in ("<script", "alert('xss')", "onerror", "onclick", "javascript:", "<iframe", "<img"):
        assert never not in html, never
    # the harmless structure survives: tables, code, headings and safe links (which never pass a referrer)
    for kept in ("<h1>Rubric</h1>", "<table>", "<th>Score</th>", "<td>Wrong</td>", "<code>label_id</code>", "<pre>"):
        assert kept in html, kept
    assert 'href="https://example.test/spec"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert version.body_markdown == MALICIOUS.strip()


def test_render_markdown_never_lets_a_link_title_become_an_event_handler():
    html = render_markdown('[x](https://example.test "t" onmouseover="alert(1)")')

    # at most inert, escaped text inside the title attribute
    assert 'onmouseover="' not in html
    assert "<a " in html


@pytest.mark.parametrize("status", ["cancelled", "completed"])
def test_guideline_publish_on_a_finished_project_is_refused(lab, lab_admin, domains, status):
    project = ProjectFactory(lab=lab, domain=domains.radiology, status=status)

    with pytest.raises(DomainError) as exc:
        services.guideline_publish(actor=lab_admin, project=project, body_markdown="Late", change_summary="Late")

    assert exc.value.code == "project_closed"
    assert project.guideline_versions.count() == 1


def test_a_lab_member_may_not_publish_guidelines(bare, lab_member):
    with pytest.raises(PermissionDenied):
        services.guideline_publish(actor=lab_member, project=bare, body_markdown="Mine")

    assert not GuidelineVersion.objects.exists()


def test_a_new_version_notifies_everyone_who_acknowledged_an_earlier_one_on_commit(
    open_project, lab_admin, vendor, expert, vendor_manager, individual, independent,
    django_capture_on_commit_callbacks, mailoutbox,
):  # fmt: skip
    # given the vendor's expert and an independent expert acknowledged v1; the vendor manager did not
    v1 = open_project.guideline_versions.get()
    services.guideline_acknowledge(actor=expert, organization=vendor, version=v1)
    services.guideline_acknowledge(actor=independent, organization=individual, version=v1)

    # when v2 is published
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.guideline_publish(
            actor=lab_admin, project=open_project, body_markdown="Stricter", change_summary="Ties are now allowed."
        )

    # then both readers are asked to read v2, by e-mail after the commit; the manager is not
    assert callbacks
    assert kinds_for(expert) == kinds_for(independent) == ["guideline.published"]
    assert kinds_for(vendor_manager) == []
    assert sorted(m.to[0] for m in mailoutbox) == sorted([expert.email, independent.email])
    assert "Ties are now allowed." in mailoutbox[0].body


def test_a_first_version_notifies_nobody(bare, lab_admin, expert):
    services.guideline_publish(actor=lab_admin, project=bare, body_markdown="First")

    assert kinds_for(expert) == []


# --- guideline_acknowledge ------------------------------------------------------------------------------


def test_guideline_acknowledge_records_who_read_which_version(open_project, vendor, expert, lab_admin):
    version = open_project.guideline_versions.get()

    ack = services.guideline_acknowledge(actor=expert, organization=vendor, version=version)

    assert (ack.version, ack.user, ack.organization) == (version, expert, vendor)
    row = audit_rows(version).get(action="guideline.acknowledged")
    assert (row.actor, row.organization_public_id, row.data) == (expert, vendor.public_id, {"number": 1})
    assert list(selectors.guideline_acknowledgements(actor=lab_admin, project=open_project)) == [ack]


def test_guideline_acknowledge_twice_keeps_the_first(open_project, vendor, expert):
    version = open_project.guideline_versions.get()

    first = services.guideline_acknowledge(actor=expert, organization=vendor, version=version)
    second = services.guideline_acknowledge(actor=expert, organization=vendor, version=version)

    assert first.pk == second.pk
    assert (first.created_at, GuidelineAcknowledgement.objects.count()) == (second.created_at, 1)
    assert audit_rows(version).filter(action="guideline.acknowledged").count() == 1


def test_each_version_needs_its_own_acknowledgement(open_project, lab_admin, vendor, expert):
    v1 = open_project.guideline_versions.get()
    services.guideline_acknowledge(actor=expert, organization=vendor, version=v1)
    v2 = services.guideline_publish(actor=lab_admin, project=open_project, body_markdown="v2", change_summary="x")

    services.guideline_acknowledge(actor=expert, organization=vendor, version=v2)

    assert set(GuidelineAcknowledgement.objects.values_list("version__number", flat=True)) == {1, 2}


def test_a_draft_s_guidelines_cannot_be_acknowledged(draft, vendor, expert):
    with pytest.raises(NotFound):
        services.guideline_acknowledge(actor=expert, organization=vendor, version=draft.guideline_versions.get())

    assert not GuidelineAcknowledgement.objects.exists()


def test_an_organisation_not_invited_cannot_acknowledge(lab, domains, vendor, expert, individual, independent):
    project = ProjectFactory(lab=lab, domain=domains.radiology, published=True, visibility="invited", invited=[vendor])
    version = project.guideline_versions.get()

    with pytest.raises(NotFound):
        services.guideline_acknowledge(actor=independent, organization=individual, version=version)
    services.guideline_acknowledge(actor=expert, organization=vendor, version=version)

    assert list(GuidelineAcknowledgement.objects.values_list("user", flat=True)) == [expert.pk]


def test_a_lab_cannot_acknowledge_guidelines(open_project, lab, lab_member, outsider):
    version = open_project.guideline_versions.get()
    other_lab = outsider.memberships.get().organization

    with pytest.raises(PermissionDenied):
        services.guideline_acknowledge(actor=lab_member, organization=lab, version=version)
    with pytest.raises(PermissionDenied):
        services.guideline_acknowledge(actor=outsider, organization=other_lab, version=version)

    assert not GuidelineAcknowledgement.objects.exists()


def test_someone_acknowledges_only_for_an_organisation_they_belong_to(open_project, individual, expert):
    with pytest.raises(NotFound):
        services.guideline_acknowledge(
            actor=expert, organization=individual, version=open_project.guideline_versions.get()
        )


# --- guideline_get --------------------------------------------------------------------------------------


def test_guideline_get_finds_a_visible_version_and_hides_a_draft_s(
    open_project, draft, vendor, expert, lab, lab_member
):
    visible = open_project.guideline_versions.get()
    hidden = draft.guideline_versions.get()

    assert selectors.guideline_get(actor=expert, organization=vendor, public_id=visible.public_id) == visible
    assert selectors.guideline_get(actor=lab_member, organization=lab, public_id=hidden.public_id) == hidden
    for public_id in (hidden.public_id, "not-a-uuid"):
        with pytest.raises(NotFound):
            selectors.guideline_get(actor=expert, organization=vendor, public_id=public_id)
