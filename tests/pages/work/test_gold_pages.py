"""Gold items: the lab uploads them (a file or pasted rows) and lists them; nobody on the supplier's
side finds the page, and no supplier page ever shows a gold answer."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.roles import StaffRole
from apps.work import services
from apps.work.models import Appeal, GoldItem, WorkBatch
from tests.factories import AssignmentFactory, ContractFactory, UserFactory
from tests.pages.conftest import text
from tests.pages.work.conftest import good_rows, jsonl, post_upload, section, upload_url

pytestmark = pytest.mark.django_db

MARKER = "GOLDMARK-zq81x"  # a gold answer no other text on any page contains


def gold_url(project) -> str:
    return reverse("work:gold", args=[project.public_id])


def answers(project) -> dict[str, str]:
    return dict(GoldItem.objects.filter(project=project).values_list("item_id", "answer"))


def test_the_lab_uploads_gold_as_a_file_and_lists_it(as_user, lab_admin, project, contract):
    client = as_user(lab_admin)
    page = text(client.get(gold_url(project)))
    assert 'id="gold-form"' in page and 'id="no-gold"' in page
    assert '<span class="tag mono">tie</span>' in section(page, "gold-upload")  # the allowed answers

    content = b'{"item_id": "g-1", "answer": "A"}\n{"item_id": "g-2", "answer": "tie"}\n'
    response = client.post(
        gold_url(project), {"upload": SimpleUploadedFile("gold.jsonl", content), "text": "", "fmt": "auto"}
    )

    assert response.status_code == 302
    assert answers(project) == {"g-1": "A", "g-2": "tie"}
    page = text(client.get(response["Location"]))
    assert "Gold items saved: 2 new, 0 with a new answer, 0 unchanged." in page
    table = section(page, "gold-table")
    assert "g-1" in table and "g-2" in table and '<span class="tag mono">tie</span>' in table
    assert "2 gold items" in page


def test_the_lab_pastes_csv_rows_and_a_bad_row_refuses_them_all(as_user, lab_admin, project, contract):
    client = as_user(lab_admin)
    response = client.post(gold_url(project), {"text": "item_id,answer\ng-1,A\ng-2,maybe\n", "fmt": "auto"})

    assert response.status_code == 400
    errors = section(text(response), "row-errors")
    assert '<td class="num mono">3</td>' in errors and "<code>answer</code>" in errors
    assert answers(project) == {}

    response = client.post(gold_url(project), {"text": "item_id,answer\ng-1,A\ng-2,B\n", "fmt": "auto"})
    assert response.status_code == 302 and answers(project) == {"g-1": "A", "g-2": "B"}
    client.post(gold_url(project), {"text": '{"item_id": "g-2", "answer": "tie"}', "fmt": "auto"})
    assert answers(project) == {"g-1": "A", "g-2": "tie"}


def test_a_gold_upload_needs_a_file_or_rows(as_user, lab_admin, project):
    response = as_user(lab_admin).post(gold_url(project), {"text": "", "fmt": "auto"})
    assert response.status_code == 400
    assert "Choose a file or paste the rows." in section(text(response), "field-upload")


def test_a_lab_member_reads_gold_but_does_not_upload(as_user, lab_member, project):
    client = as_user(lab_member)
    page = text(client.get(gold_url(project)))
    assert 'id="gold-form"' not in page
    assert client.post(gold_url(project), {"text": "item_id,answer\ng,A\n"}).status_code == 403


def test_the_supplier_and_its_experts_find_no_gold_page(
    as_user, vendor_manager, expert, outsider, project, contract, annotators
):
    for user in (vendor_manager, expert, annotators[0], outsider):
        client = as_user(user)
        assert client.get(gold_url(project)).status_code == 404
        assert client.post(gold_url(project), {"text": "item_id,answer\ng,A\n"}).status_code == 404
    assert GoldItem.objects.count() == 0


def test_gold_answers_never_appear_on_a_supplier_page(
    as_user, lab, lab_admin, vendor, vendor_manager, expert, project, notifications_pages
):
    # Gold uploaded before any contract is in force: any answer text is accepted, so the marker is
    # an answer that is no label of the contract.
    lab_client = as_user(lab_admin)
    lab_client.post(gold_url(project), {"text": f'{{"item_id": "item-0", "answer": "{MARKER}"}}', "fmt": "jsonl"})
    assert answers(project) == {"item-0": MARKER}
    assert MARKER in text(lab_client.get(gold_url(project)))  # the lab sees it

    contract = ContractFactory(project=project, lab=lab, supplier=vendor)
    people = [AssignmentFactory(contract=contract, expert=UserFactory()).expert for _ in range(3)]
    supplier = as_user(vendor_manager)
    seen = []

    def visit(client, url):
        response = client.get(url)
        body = response.getvalue() if response.streaming else response.content
        seen.append((url, response.status_code))
        assert MARKER.encode() not in body, url

    response = post_upload(supplier, contract, jsonl(good_rows(people, items=3)), units=9)
    batch_page = response["Location"]
    urls = [
        reverse("home"),
        reverse("contracts:list"),
        reverse("contracts:detail", args=[contract.public_id]),
        reverse("work:contract_batches", args=[contract.public_id]),
        upload_url(contract),
        batch_page,
        gold_url(project),
        *notifications_pages,
    ]
    for url in urls:
        visit(supplier, url)
    batch = WorkBatch.objects.get()
    services.batch_reject(actor=lab_admin, batch=batch, reason="low_gold_accuracy", evidence="Gold accuracy 0.3.")
    visit(supplier, batch_page)
    services.appeal_open(actor=vendor_manager, organization=vendor, batch=batch, reason="The gold is wrong.")
    visit(supplier, batch_page)
    operations = UserFactory(staff_role=StaffRole.OPERATIONS)
    services.appeal_decide(actor=operations, appeal=Appeal.objects.get(), outcome="overturn", reason="Gold was wrong.")
    for url in [*urls, reverse("work:datasheet_json", args=[batch.public_id])]:
        visit(supplier, url)
    visit(supplier, reverse("work:datasheet_csv", args=[batch.public_id]))
    for person in (expert, people[0]):
        for url in (reverse("home"), reverse("contracts:assignments"), batch_page, gold_url(project)):
            visit(as_user(person), url)
    assert (batch_page, 200) in seen and (gold_url(project), 404) in seen


@pytest.fixture
def notifications_pages():
    return [reverse("notifications:list")]


def test_the_lab_uploads_gold_as_csv_file(as_user, lab_admin, project, contract):
    response = as_user(lab_admin).post(
        gold_url(project), {"upload": SimpleUploadedFile("gold.csv", b"answer,item_id\nB,7\n"), "fmt": "auto"}
    )
    assert response.status_code == 302 and answers(project) == {"7": "B"}
