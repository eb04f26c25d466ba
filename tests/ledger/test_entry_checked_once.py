"""Migration 0003: the deferred balance check runs once per entry, and a posting added to an entry after
it was checked is still checked (PostgreSQL only; skipped on SQLite)."""

import pytest
from django.db import IntegrityError, connection, transaction

from apps.ledger.models import JournalEntry
from apps.ledger.services import account
from tests.ledger.test_postgresql_guards import raw_entry, raw_posting

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="database triggers need PostgreSQL (set DATABASE_URL=postgres://...)",
)


@pytest.mark.django_db
def test_a_posting_added_after_the_entry_was_checked_is_checked_again():
    fees = account("stripe_fees", currency="USD")
    bank = account("stripe_balance", currency="USD")

    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic(), connection.cursor() as cursor:
            entry_id = raw_entry(cursor, "raw:1")
            raw_posting(cursor, entry_id, fees.pk, 100)
            raw_posting(cursor, entry_id, bank.pk, -100)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked (balanced) and marked
            raw_posting(cursor, entry_id, fees.pk, 5)  # same entry, a higher posting id: checked again

    assert not JournalEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_many_entries_with_many_legs_commit_and_one_bad_leg_fails():
    fees = account("stripe_fees", currency="USD")
    bank = account("stripe_balance", currency="USD")
    with transaction.atomic(), connection.cursor() as cursor:
        for n in range(3):
            entry_id = raw_entry(cursor, f"raw:ok:{n}")
            for _ in range(50):
                raw_posting(cursor, entry_id, fees.pk, 1)
            raw_posting(cursor, entry_id, bank.pk, -50)
    assert JournalEntry.objects.count() == 3

    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic(), connection.cursor() as cursor:
            first = raw_entry(cursor, "raw:bad:1")
            raw_posting(cursor, first, fees.pk, 10)
            raw_posting(cursor, first, bank.pk, -10)
            second = raw_entry(cursor, "raw:bad:2")
            raw_posting(cursor, second, fees.pk, 10)
            raw_posting(cursor, second, bank.pk, -10)
            raw_posting(cursor, first, fees.pk, 1)  # back to the first entry after the second: unbalances it
    assert JournalEntry.objects.count() == 3
