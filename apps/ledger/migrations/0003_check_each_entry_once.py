"""PostgreSQL: the deferred balance check runs once per journal entry, not once per posting.

0002 checked the whole entry (count, per-currency sum, account currencies) from every posting's
deferred trigger: O(legs^2) per entry, which the accrual's entries (one leg per supplier) made the
slowest part of a payout run. Now the first deferred check of an entry records, in a
transaction-local setting ``ledger.checked_entry``, the entry and the highest posting id it saw; a
later posting event of the same entry with an id at or below that mark skips the check (the check
already covered it). A posting added afterwards (a higher id, e.g. after ``SET CONSTRAINTS ALL
IMMEDIATE``) is checked again, so nothing can slip past. The events of one entry are queued together
(the entry, then its postings in one bulk insert), so each entry is checked once: O(legs).
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION ledger_check_entry_once(entry bigint, posting bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    mark text := current_setting('ledger.checked_entry', true);
BEGIN
    IF posting IS NOT NULL AND mark IS NOT NULL AND mark <> ''
       AND split_part(mark, ':', 1)::bigint = entry AND posting <= split_part(mark, ':', 2)::bigint THEN
        RETURN;
    END IF;
    PERFORM ledger_check_entry(entry);
    PERFORM set_config(
        'ledger.checked_entry',
        entry::text || ':' || COALESCE((SELECT max(id) FROM ledger_posting WHERE entry_id = entry), 0)::text,
        true
    );
END;
$$;

CREATE OR REPLACE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_entry_once(NEW.entry_id, NEW.id);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION ledger_entry_has_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_entry_once(NEW.id, NULL);
    RETURN NULL;
END;
$$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_entry(NEW.entry_id);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION ledger_entry_has_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_entry(NEW.id);
    RETURN NULL;
END;
$$;

DROP FUNCTION IF EXISTS ledger_check_entry_once(bigint, bigint);
"""


class PostgreSQLOnly(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and is a no-op on any other database (as in 0002)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def _statements(text: str) -> list:
    return [(statement, []) for statement in text.split("\n\n") if statement.strip()]


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_postgresql_guards")]

    operations = [PostgreSQLOnly(sql=_statements(FORWARD), reverse_sql=_statements(BACKWARD))]
