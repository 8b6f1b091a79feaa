"""Rule set names are append-only too: a rename in the database re-attributed a rule
set's whole history (its versions, what was live when, what its audit entries name) to
another name, and an export under the old name found no rule set.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001's function, which says which table refused
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER rulesets_append_only BEFORE UPDATE OR DELETE ON rulesets "
                   "FOR EACH ROW EXECUTE FUNCTION remise_append_only()")
        op.execute("CREATE TRIGGER rulesets_no_truncate BEFORE TRUNCATE ON rulesets "
                   "FOR EACH STATEMENT EXECUTE FUNCTION remise_append_only()")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER rulesets_no_{event.lower()} BEFORE {event} ON rulesets "
                   "BEGIN SELECT RAISE(ABORT, 'remise: rulesets is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER rulesets_append_only ON rulesets")
        op.execute("DROP TRIGGER rulesets_no_truncate ON rulesets")
        return
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER rulesets_no_{event}")
