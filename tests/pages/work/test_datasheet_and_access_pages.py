"""The provenance datasheet on the batch page and its downloads, on a known batch; who finds the
batch pages at all."""

import csv
import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.experts.models import CredentialType
from apps.projects.models import GuidelineAcknowledgement, GuidelineVersion
from apps.work import services
from apps.work.datasheet import ROW_FIELDS
from tests.factories import CredentialFactory
from tests.pages.conftest import text
from tests.pages.test_no_external_urls import external_urls
from tests.pages.work.conftest import batch_url, jsonl, judgment, section, upload_url

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def known(project, annotators, vendor, vendor_manager, lab_admin, contract):
    """Two items by three annotators (6 judgments), accepted. The first holds a verified board
    certification and degree and acknowledged guidelines v1 and v2; the second a degree and v1; the
    third a pending licence only and no acknowledgement."""
    first, second, third = annotators
    CredentialFactory(profile=first.expert_profile, type=CredentialType.BOARD_CERTIFICATION, verified=True)
    CredentialFactory(profile=first.expert_profile, type=CredentialType.DEGREE, verified=True)
    CredentialFactory(profile=second.expert_profile, type=CredentialType.DEGREE, verified=True)
    CredentialFactory(profile=third.expert_profile, type=CredentialType.PROFESSIONAL_LICENCE)
    v1 = project.guideline_versions.get(number=1)
    v2 = GuidelineVersion.objects.create(project=project, number=2, body_markdown="v2", body_html="<p>v2</p>")
    with time_machine.travel(T0, tick=False):
        for user, version in ((first, v1), (first, v2), (second, v1)):
            GuidelineAcknowledgement.objects.create(version=version, user=user)
    rows = [
        judgment("=item-1", first, "A", seconds_spent=30, started_at="2025-03-02T09:00:00Z"),
        judgment("=item-1", second, "B", seconds_spent=45),
        judgment("=item-1", third, "A"),
        judgment("item-2", first, "tie", seconds_spent=20),
        judgment("item-2", second, "tie", seconds_spent=25),
        judgment("item-2", third, "B", seconds_spent=60),
    ]
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        batch = services.batch_submit(
            actor=vendor_manager, organization=vendor, contract=contract, client_batch_key="known",
            period_start="2025-03-01", period_end="2025-03-07", unit_count=6, upload=io.BytesIO(jsonl(rows)),
            fmt="jsonl",
        )  # fmt: skip
    services.batch_accept(actor=lab_admin, batch=batch)
    batch.refresh_from_db()
    return batch


def test_the_datasheet_of_a_known_batch_on_the_page(as_user, lab_member, vendor_manager, known):
    for user in (lab_member, vendor_manager):
        page = text(as_user(user).get(batch_url(known)))
        sheet = section(page, "datasheet")
        totals = section(sheet, "datasheet-totals")
        assert "Accepted" in totals and "6 of 6 units accepted" in totals
        assert "on 2 items" in totals and "1 without a verified credential" in totals
        assert "180 s over 5 timed judgments" in totals
        mix = section(sheet, "credential-mix")
        mix = mix[: mix.index("</table>")]
        assert '<td>Board certification</td><td class="num">1</td><td class="num">2</td>' in mix
        assert '<td>Degree</td><td class="num">2</td><td class="num">4</td>' in mix
        assert "Professional licence" not in mix  # not verified
        versions = section(sheet, "guideline-mix")
        assert '<td>v2</td><td class="num">2</td>' in versions and "none acknowledged" in versions
        table = section(sheet, "datasheet-table")
        body = table[table.index("<tbody>") : table.index("</tbody>")]
        rows = body.split("<tr>")[1:]
        assert len(rows) == 6
        assert "=item-1" in rows[0] and "ex-ann-0" in rows[0] and "Board certification, Degree" in rows[0]
        assert "<td>v2</td>" in rows[0] and '<td class="num">30</td>' in rows[0] and "Accepted" in rows[0]
        assert "ex-ann-1" in rows[1] and "<td>v1</td>" in rows[1]  # v2 acknowledged only after the submission
        assert "ex-ann-2" in rows[2] and "<td>—</td>" in rows[2]
        downloads = section(sheet, "datasheet-downloads")
        assert f"/work/batches/{known.public_id}/datasheet.json" in downloads
        assert f"/work/batches/{known.public_id}/datasheet.csv" in downloads
        # The lab sees handles, never the experts' names; no labels either.
        assert "Annotator Number" not in sheet and "annotator0@" not in sheet


def test_the_datasheet_downloads_as_csv_and_json(as_user, lab_admin, vendor_manager, annotators, known):
    first, second, third = (a.expert_profile.handle for a in annotators)
    client = as_user(lab_admin)

    response = client.get(f"/work/batches/{known.public_id}/datasheet.csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="datasheet-{known.public_id}.csv"'
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert rows[0] == list(ROW_FIELDS)
    assert rows[1] == [
        "'=item-1", first, "board_certification;degree", "2", "2025-03-02T09:00:00+00:00", "30", "accepted",
    ]  # fmt: skip
    assert rows[3] == ["'=item-1", third, "", "", "", "", "accepted"]
    assert len(rows) == 7

    response = as_user(vendor_manager).get(f"/work/batches/{known.public_id}/datasheet.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.getvalue())
    assert data["batch"]["judgment_count"] == 6 and data["batch"]["annotator_count"] == 3
    assert data["batch"]["credential_mix"] == [
        {"type": "board_certification", "label": "Board certification", "annotators": 1, "judgments": 2},
        {"type": "degree", "label": "Degree", "annotators": 2, "judgments": 4},
    ]
    assert [r["annotator"] for r in data["rows"]] == [first, second, third, first, second, third]
    assert data["rows"][1]["guideline_version"] == 1

    summary = client.get(reverse("work:datasheet_summary_csv", args=[known.public_id]))
    assert "credential_mix.degree.judgments,4" in summary.content.decode()


def test_no_datasheet_before_acceptance(as_user, lab_admin, batch):
    client = as_user(lab_admin)
    assert 'id="datasheet"' not in text(client.get(batch_url(batch)))
    assert client.get(f"/work/batches/{batch.public_id}/datasheet.json").status_code == 404
    assert client.get(f"/work/batches/{batch.public_id}/datasheet.csv").status_code == 404


def test_the_datasheet_table_pages(as_user, lab_admin, vendor, vendor_manager, contract, annotators):
    rows = [judgment(f"item-{i:03d}", a) for i in range(20) for a in annotators]  # 60 judgments
    batch = services.batch_submit(
        actor=vendor_manager, organization=vendor, contract=contract, client_batch_key="big",
        period_start="2025-03-01", period_end="2025-03-07", unit_count=60, upload=io.BytesIO(jsonl(rows)),
        fmt="jsonl",
    )  # fmt: skip
    services.batch_accept(actor=lab_admin, batch=batch)
    client = as_user(lab_admin)
    first = section(text(client.get(batch_url(batch))), "datasheet-rows")
    assert "1–50 of 60 judgments" in first and "Page 1 of 2" in first
    second = section(text(client.get(batch_url(batch) + "?page=2")), "datasheet-rows")
    assert "51–60 of 60 judgments" in second and "item-019" in second and "item-000" not in second


def every_batch_url(batch) -> list[tuple[str, str]]:
    return [
        ("get", batch_url(batch)),
        ("get", f"/work/batches/{batch.public_id}/datasheet.json"),
        ("get", f"/work/batches/{batch.public_id}/datasheet.csv"),
        ("get", reverse("work:datasheet_summary_csv", args=[batch.public_id])),
        ("post", reverse("work:batch_review", args=[batch.public_id])),
        ("post", reverse("work:batch_appeal", args=[batch.public_id])),
        ("get", reverse("work:contract_batches", args=[batch.contract.public_id])),
        ("get", upload_url(batch.contract)),
        ("post", upload_url(batch.contract)),
    ]


def test_an_outsider_gets_404_on_every_batch_page(as_user, outsider, known):
    client = as_user(outsider)
    for method, url in every_batch_url(known):
        assert getattr(client, method)(url, {"decision": "accept"} if method == "post" else None).status_code == 404, (
            url
        )


def test_a_signed_out_visitor_is_sent_to_log_in(client, known):
    response = client.get(batch_url(known))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_assigned_expert_finds_no_batch_page(as_user, annotators, known):
    client = as_user(annotators[0])
    assert client.get(batch_url(known)).status_code == 404
    assert client.get(f"/work/batches/{known.public_id}/datasheet.csv").status_code == 404


def test_no_work_page_has_an_external_url(as_user, lab_admin, vendor_manager, operations, known, appealed):
    pages = [
        (lab_admin, batch_url(known)),
        (lab_admin, batch_url(appealed)),
        (lab_admin, reverse("work:gold", args=[known.contract.project.public_id])),
        (lab_admin, reverse("work:contract_batches", args=[known.contract.public_id])),
        (lab_admin, reverse("contracts:detail", args=[known.contract.public_id])),
        (vendor_manager, batch_url(known)),
        (vendor_manager, upload_url(known.contract)),
        (vendor_manager, reverse("contracts:detail", args=[known.contract.public_id])),
        (operations, reverse("work:appeals")),
        (operations, batch_url(appealed)),
    ]
    for user, url in pages:
        response = as_user(user).get(url)
        assert response.status_code == 200, url
        assert external_urls(text(response)) == [], url
