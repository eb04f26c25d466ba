"""Finance's ledger pages: balances, the journal, an entry, the adjusting entry form and the CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.ledger.models import JournalEntry, Posting
from apps.ledger.services import balance
from apps.ledger.services import reverse as reverse_entry

BALANCES = reverse("ledger:balances")
JOURNAL = reverse("ledger:journal")
ADJUST = reverse("ledger:adjust")
EXPORT = reverse("ledger:export")
EXPORT_PAGE = reverse("ledger:export_page")


@pytest.fixture
def paid_description():
    # A spreadsheet formula: the CSV export must neutralise it.
    return "=HYPERLINK lab paid"


@pytest.fixture
def as_finance(client, finance):
    client.force_login(finance)
    return client


def page(response) -> str:
    return response.content.decode()


def test_balances_are_grouped_by_kind_and_open_clearing_accounts_highlighted(books, as_finance, codes, vendor):
    response = as_finance.get(BALANCES)

    body = page(response)
    assert response.status_code == 200
    assert 'id="book-USD"' in body
    assert 'id="USD-asset"' in body and 'id="USD-liability"' in body and 'id="USD-revenue"' in body
    assert "96.80" in body and "85.00" in body and "15.00" in body
    assert body.count("Should clear to zero") == 1  # the supplier's payable; the lab's receivable is at zero
    assert vendor.name in body
    assert "Debits equal credits" in body


def test_balances_as_of_a_day(books, as_finance):
    body = page(as_finance.get(f"{BALANCES}?as_of=2026-03-01"))

    assert body.count("Should clear to zero") == 2  # the lab had not paid yet


def test_the_journal_lists_entries_with_filters(books, as_finance):
    everything = page(as_finance.get(JOURNAL))
    fees_only = page(as_finance.get(f"{JOURNAL}?account=stripe_fees"))
    bad = as_finance.get(f"{JOURNAL}?occurred_from=2026-03-05&occurred_to=2026-03-01")

    assert "Work accepted" in everything and "lab paid" in everything
    assert "lab paid" in fees_only and "Work accepted" not in fees_only
    assert bad.status_code == 400
    assert "must not be before" in page(bad)


def test_an_entry_page_shows_its_postings_and_its_reversal(books, as_finance):
    _accepted, paid = books
    reversal = reverse_entry(entry=paid, reason="Charged twice", idempotency_key="rev:1")

    original = page(as_finance.get(reverse("ledger:entry_detail", args=[paid.public_id])))
    mirrored = page(as_finance.get(reverse("ledger:entry_detail", args=[reversal.public_id])))

    assert 'id="reversed-by"' in original and "Charged twice" in original
    assert str(reversal.public_id) in original
    assert 'id="reverses"' in mirrored and str(paid.public_id) in mirrored
    assert "96.80" in original


def adjustment(**rows):
    data = {"key": "adjustment:test-1", "description": "Fee correction", "currency": "USD", "reason": "Exception 7"}
    data.update(rows)
    return data


def test_finance_posts_an_adjusting_entry(books, as_finance, finance):
    response = as_finance.post(
        ADJUST,
        adjustment(
            leg_1_account="stripe_fees", leg_1_debit="0.12", leg_2_account="stripe_balance", leg_2_credit="0.12"
        ),
    )

    entry = JournalEntry.objects.get(source_type="adjustment")
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:entry_detail", args=[entry.public_id])
    assert balance("stripe_fees", currency="USD") == 332
    assert AuditEvent.objects.filter(action="ledger.adjusted", actor=finance).exists()
    # the same form sent again posts nothing more
    as_finance.post(
        ADJUST,
        adjustment(
            leg_1_account="stripe_fees", leg_1_debit="0.12", leg_2_account="stripe_balance", leg_2_credit="0.12"
        ),
    )
    assert JournalEntry.objects.filter(source_type="adjustment").count() == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"leg_1_account": "stripe_fees", "leg_1_debit": "1.00", "leg_2_account": "stripe_balance",
          "leg_2_credit": "0.50"}, "Debits (1.00) and credits (0.50) must be equal"),
        ({"leg_1_account": "stripe_fees", "leg_1_debit": "1.00"}, "at least two rows"),
        ({"leg_1_account": "stripe_fees", "leg_1_debit": "1.005", "leg_2_account": "stripe_balance",
          "leg_2_credit": "1.005"}, "Row 1: USD amounts have at most 2 decimal places"),
        ({"leg_1_account": "stripe_fees", "leg_1_debit": "1", "leg_1_credit": "1", "leg_2_account": "stripe_balance",
          "leg_2_credit": "1"}, "Row 1: give either a debit or a credit"),
        ({"leg_1_account": "stripe_fees", "leg_1_debit": "abc", "leg_2_account": "stripe_balance",
          "leg_2_credit": "1"}, "Row 1: &#x27;abc&#x27; is not an amount"),
        ({"leg_1_debit": "1", "leg_2_account": "stripe_balance", "leg_2_credit": "1"}, "Row 1: name the account"),
        ({"leg_1_account": "stripe_fees", "leg_1_debit": "1", "leg_3_account": "petty_cash",
          "leg_3_credit": "1"}, "Unknown account &#x27;petty_cash&#x27;"),
        ({"leg_1_account": "stripe_fees", "leg_1_debit": "-1", "leg_2_account": "stripe_balance",
          "leg_2_credit": "-1"}, "Row 1: the debit must be more than zero"),
    ],
    ids=["unbalanced", "one-row", "precision", "both-sides", "not-a-number", "no-account", "unknown-account",
         "negative"],
)  # fmt: skip
def test_a_bad_adjusting_entry_names_the_row_and_posts_nothing(books, as_finance, rows, message):
    before = (JournalEntry.objects.count(), Posting.objects.count())

    response = as_finance.post(ADJUST, adjustment(**rows))

    assert response.status_code == 400
    assert message in page(response), page(response)[:3000]
    assert (JournalEntry.objects.count(), Posting.objects.count()) == before


def test_an_unknown_account_is_shown_on_its_row(books, as_finance):
    response = as_finance.post(
        ADJUST,
        adjustment(leg_1_account="stripe_fees", leg_1_debit="1", leg_3_account="petty_cash", leg_3_credit="1"),
    )

    body = page(response)
    row = body[body.index('id="row-3"') : body.index('id="row-4"')]
    assert "Unknown account" in row


def test_an_adjustment_needs_a_reason(books, as_finance):
    data = adjustment(leg_1_account="stripe_fees", leg_1_debit="1", leg_2_account="stripe_balance", leg_2_credit="1")
    data["reason"] = ""

    response = as_finance.post(ADJUST, data)

    assert response.status_code == 400
    assert not JournalEntry.objects.filter(source_type="adjustment").exists()


def test_the_export_streams_one_row_per_posting_for_the_period(books, as_finance, codes):
    response = as_finance.get(f"{EXPORT}?occurred_from=2026-03-01&occurred_to=2026-03-01")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "journal-20260301-20260301.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["account"], r["debit"], r["credit"], r["amount_minor"]) for r in rows] == [
        (codes.receivable, "100.00", "", "10000"),
        (codes.payable, "", "85.00", "-8500"),
        ("platform_fee_revenue", "", "15.00", "-1500"),
    ]


def test_the_export_neutralises_spreadsheet_formulas(books, as_finance):
    response = as_finance.get(f"{EXPORT}?occurred_from=2026-03-05&occurred_to=2026-03-05")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["description"] for r in rows} == {"'=HYPERLINK lab paid"}


def test_a_bad_export_period_is_refused_naming_the_field(books, as_finance):
    backwards = as_finance.get(f"{EXPORT}?occurred_from=2026-03-05&occurred_to=2026-03-01")
    missing = as_finance.get(EXPORT)

    assert backwards.status_code == 400 and "must not be before" in page(backwards)
    assert missing.status_code == 400 and "This field is required" in page(missing)


@pytest.mark.parametrize("who", ["operations", "lab_owner", "outsider"])
def test_nobody_but_finance_finds_the_ledger_pages(books, client, request, who):
    client.force_login(request.getfixturevalue(who))
    _accepted, paid = books

    for url in (BALANCES, JOURNAL, ADJUST, EXPORT_PAGE, f"{EXPORT}?occurred_from=2026-03-01&occurred_to=2026-03-31",
                reverse("ledger:entry_detail", args=[paid.public_id])):  # fmt: skip
        assert client.get(url).status_code == 404, url
    response = client.post(
        ADJUST,
        adjustment(leg_1_account="stripe_fees", leg_1_debit="1", leg_2_account="stripe_balance", leg_2_credit="1"),
    )
    assert response.status_code == 404
    assert not JournalEntry.objects.filter(source_type="adjustment").exists()


def test_finance_finds_the_ledger_in_the_navigation(as_finance):
    body = page(as_finance.get(reverse("home")))

    assert f'href="{BALANCES}"' in body


def test_an_unknown_entry_is_404(as_finance):
    assert (
        as_finance.get(reverse("ledger:entry_detail", args=["6f1e2d7c-0000-4000-8000-000000000000"])).status_code == 404
    )


def test_the_finance_dashboard_lists_clearing_accounts_not_at_zero(books, as_finance, codes, vendor):
    body = page(as_finance.get(reverse("home")))

    summary = body[body.index('id="ledger-summary"') :]
    assert "1 clearing account not at zero" in summary
    assert codes.payable in summary and vendor.name in summary
