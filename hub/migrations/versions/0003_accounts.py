"""Account life cycle and guessing limits: officials.disabled_at, the login_throttle table (per address
and per account, with growing lockouts), and the ward each audit row concerns (for ward-scoped views).

Existing audit rows get no ward, so only hub-wide officials see them: nothing leaks across wards.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officials") as batch:
        batch.add_column(sa.Column("disabled_at", sa.Float))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lockouts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("ward", sa.String(120)))
    op.create_index("audit_ward", "audit", ["ward", "id"])


def downgrade() -> None:
    op.drop_index("audit_ward", "audit")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("ward")
    op.drop_table("login_throttle")
    with op.batch_alter_table("officials") as batch:
        batch.drop_column("disabled_at")
