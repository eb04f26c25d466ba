"""The database's own guards (PostgreSQL only; migration 0002): raw SQL can neither change nor delete
ledger rows, and an entry that does not balance cannot commit.

Run with DATABASE_URL=postgres://...; on SQLite these tests are skipped."""

import threading
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.ledger.models import JournalEntry, Posting
from apps.ledger.services import Leg, account, balance, post, reverse

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="database triggers need PostgreSQL (set DATABASE_URL=postgres://...)",
)


def an_entry(key="e:1"):
    return post(
        description="Fee",
        currency="USD",
        legs=[Leg("stripe_fees", 320), Leg("stripe_balance", -320)],
        idempotency_key=key,
    )


def raw_entry(cursor, key: str) -> int:
    now = timezone.now()
    cursor.execute(
        "INSERT INTO ledger_journalentry (public_id, created_at, updated_at, occurred_at, description, currency,"
        " source_type, source_id, idempotency_key, memo) VALUES (%s, %s, %s, %s, 'Raw', 'USD', '', '', %s, '{}')"
        " RETURNING id",
        [uuid.uuid4(), now, now, now, key],
    )
    return cursor.fetchone()[0]


def raw_posting(cursor, entry_id: int, account_id: int, amount: int, currency: str = "USD") -> None:
    cursor.execute(
        "INSERT INTO ledger_posting (entry_id, account_id, amount, currency) VALUES (%s, %s, %s, %s)",
        [entry_id, account_id, amount, currency],
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_posting SET amount = amount * 2",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_journalentry SET description = 'Edited'",
        "DELETE FROM ledger_journalentry",
    ],
)
def test_raw_sql_cannot_update_or_delete_ledger_rows(statement):
    an_entry()

    with pytest.raises(IntegrityError, match="immutable"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

    assert JournalEntry.objects.get().description == "Fee"
    assert balance("stripe_fees", currency="USD") == 320


@pytest.mark.django_db
def test_an_unbalanced_raw_insert_is_refused_when_constraints_are_checked():
    fees = account("stripe_fees", currency="USD")

    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic(), connection.cursor() as cursor:
            entry_id = raw_entry(cursor, "raw:1")
            raw_posting(cursor, entry_id, fees.pk, 100)
            raw_posting(cursor, entry_id, account("stripe_balance", currency="USD").pk, -99)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert not JournalEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_raw_insert_fails_at_commit():
    fees = account("stripe_fees", currency="USD")
    bank = account("stripe_balance", currency="USD")

    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                entry_id = raw_entry(cursor, "raw:1")
                raw_posting(cursor, entry_id, fees.pk, 100)
                raw_posting(cursor, entry_id, bank.pk, -99)
            # still inside the transaction: the check is deferred to COMMIT

    assert not JournalEntry.objects.exists()
    assert not Posting.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("postings", [[], [100]], ids=["no-postings", "one-posting"])
def test_an_entry_with_fewer_than_two_postings_fails_at_commit(postings):
    fees = account("stripe_fees", currency="USD")

    with pytest.raises(IntegrityError, match="fewer than two postings|does not balance"):
        with transaction.atomic(), connection.cursor() as cursor:
            entry_id = raw_entry(cursor, "raw:1")
            for amount in postings:
                raw_posting(cursor, entry_id, fees.pk, amount)

    assert not JournalEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_posting_in_another_currency_than_its_account_fails_at_commit():
    fees = account("stripe_fees", currency="USD")

    with pytest.raises(IntegrityError, match="currency"):
        with transaction.atomic(), connection.cursor() as cursor:
            entry_id = raw_entry(cursor, "raw:1")
            raw_posting(cursor, entry_id, fees.pk, 100, "EUR")
            raw_posting(cursor, entry_id, fees.pk, -100, "EUR")

    assert not JournalEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_balanced_entries_commit_through_post():
    entry = an_entry()
    reverse(entry=entry, reason="Mistake", idempotency_key="rev:1")

    assert JournalEntry.objects.count() == 2
    assert balance("stripe_fees", currency="USD") == 0


# --- Concurrency: the same key or the same reversal from several callers at once ---------------------------


def _race(calls) -> list[object]:
    """Run each call in its own thread (its own connection), all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # recorded and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_with_one_key_write_one_entry():
    results = _race([lambda: an_entry("same") for _ in range(6)])

    assert all(isinstance(r, JournalEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert JournalEntry.objects.count() == 1
    assert balance("stripe_fees", currency="USD") == 320


@pytest.mark.django_db(transaction=True)
def test_concurrent_reversals_reverse_once():
    entry = an_entry()

    results = _race([lambda n=n: reverse(entry=entry, reason="Race", idempotency_key=f"rev:{n}") for n in range(4)])

    reversals = [r for r in results if isinstance(r, JournalEntry)]
    refused = [r for r in results if not isinstance(r, JournalEntry)]
    assert len(reversals) == 1, results
    assert all(getattr(r, "code", None) == "ledger_entry_already_reversed" for r in refused), refused
    assert balance("stripe_fees", currency="USD") == 0
