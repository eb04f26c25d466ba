"""PostgreSQL guards: the database itself keeps the ledger immutable and balanced.

- ``ledger_refuse_change`` (BEFORE UPDATE OR DELETE, each row) on entries and postings: refused
  with SQLSTATE 23001 (restrict_violation). TRUNCATE is left alone (test database flushes use it).
- ``ledger_posting_balanced`` and ``ledger_entry_has_postings``: DEFERRABLE INITIALLY DEFERRED
  constraint triggers that check at commit that each new entry has at least two postings, each in
  its account's currency, summing to zero per currency (SQLSTATE 23514, check_violation).

Other databases (SQLite in development and most tests) skip this migration's SQL; the Python
checks in ``apps.ledger.models`` and ``apps.ledger.services`` apply everywhere.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable: %% on %% refused (post a reversing entry)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_journalentry_immutable BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_posting_immutable BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE FUNCTION ledger_check_entry(entry bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    IF (SELECT count(*) FROM ledger_posting WHERE entry_id = entry) < 2 THEN
        RAISE EXCEPTION 'journal entry %% has fewer than two postings', entry USING ERRCODE = 'check_violation';
    END IF;
    SELECT p.currency, sum(p.amount) AS total INTO bad
        FROM ledger_posting p WHERE p.entry_id = entry
        GROUP BY p.currency HAVING sum(p.amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry %% does not balance in %%: postings sum to %%', entry, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM ledger_posting p JOIN ledger_ledgeraccount a ON a.id = p.account_id
        WHERE p.entry_id = entry AND p.currency <> a.currency
    ) THEN
        RAISE EXCEPTION 'journal entry %% posts in a currency its account does not hold', entry
            USING ERRCODE = 'check_violation';
    END IF;
END;
$$;

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

CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced();

CREATE CONSTRAINT TRIGGER ledger_entry_has_postings AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_has_postings();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS ledger_entry_has_postings ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_posting_immutable ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_journalentry_immutable ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_entry_has_postings();
DROP FUNCTION IF EXISTS ledger_posting_balanced();
DROP FUNCTION IF EXISTS ledger_check_entry(bigint);
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""


class PostgreSQLOnly(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and is a no-op on any other database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    # One statement per item, each with (empty) params so that "%%" in the SQL stands for PL/pgSQL's "%".
    operations = [
        PostgreSQLOnly(
            sql=[(statement, []) for statement in FORWARD.split("\n\n") if statement.strip()],
            reverse_sql=[(statement, []) for statement in BACKWARD.strip().splitlines()],
        )
    ]
