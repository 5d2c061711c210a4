"""The points ledger is append-only, enforced by the database too.

A BEFORE UPDATE trigger rejects any change to an entry except:
* ``member_id`` (entries follow members through merges and un-merges), and
* clearing ``rule_id``, ``source_event_id`` or ``actor_id`` to NULL (Django's SET_NULL when a
  rule, an event or a user is deleted; the entry keeps its rule key and reason).

There is deliberately no DELETE trigger: deleting a community must still cascade, and the test
database is emptied with DELETE on SQLite. Deletes are refused by the model and its queryset.

Note for later migrations: on SQLite, Django rebuilds a table to alter it, which drops its
triggers; a migration that alters ``rewards_pointentry`` must create this trigger again
(``create_trigger`` below), and the ledger tests fail if it does not.
"""

from django.db import migrations

TABLE = "rewards_pointentry"
TRIGGER = "rewards_pointentry_append_only"
MESSAGE = "points ledger entries are append-only: only the member of an entry may change"
# Columns that never change once written.
FIXED = (
    "id",
    "community_id",
    "amount",
    "kind",
    "rule_key",
    "beneficiary",
    "reason",
    "occurred_at",
    "day",
    "created_at",
    "idempotency_key",
    "reverses_id",
)
# References that may only be cleared (ON DELETE SET NULL of a rule, event or user).
CLEARABLE = ("rule_id", "source_event_id", "actor_id")


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        changed = " OR ".join(
            [f"NEW.{c} IS NOT OLD.{c}" for c in FIXED]
            + [f"(NEW.{c} IS NOT OLD.{c} AND NEW.{c} IS NOT NULL)" for c in CLEARABLE]
        )
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE} FOR EACH ROW WHEN {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    elif vendor == "postgresql":
        changed = " OR ".join(
            [f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FIXED]
            + [f"(NEW.{c} IS DISTINCT FROM OLD.{c} AND NEW.{c} IS NOT NULL)" for c in CLEARABLE]
        )
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$ BEGIN "
            f"IF {changed} THEN "
            f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; "
            "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}")
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()"
        )


def drop_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")


class Migration(migrations.Migration):
    dependencies = [("rewards", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
