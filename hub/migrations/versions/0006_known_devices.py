"""Known devices: browsers an official logged in from (a long-lived cookie, stored hashed), to which
an account lockout does not apply, so guesses from many addresses cannot keep the official out.

officials.failed_logins and locked_until (0001) are no longer used (login_throttle replaced them)
but stay: dropping a column on SQLite rebuilds the table, and the rebuild would cascade to every
open session.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_devices",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("official_id", sa.Integer, sa.ForeignKey("officials.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("known_devices")
