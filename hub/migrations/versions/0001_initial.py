"""Initial hub schema: kiosks, officials, sessions, notices, deliveries, daily stats, audit.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("ward", sa.String(120), nullable=False, server_default=""),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
        sa.Column("last_seen", sa.Float),
        sa.Column("heartbeat", sa.Text, nullable=False, server_default="{}"),
        sa.Column("sim_number", sa.String(20), nullable=False, server_default=""),
        sa.Column("feed_version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "officials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("login", sa.String(80), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("ward", sa.String(120), nullable=False, server_default=""),
        sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id")),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("official_id", sa.Integer, sa.ForeignKey("officials.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("group_code", sa.String(20), nullable=False, server_default=""),
        sa.Column("unaccented", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("parts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("cancelled_at", sa.Float),
        sa.Column("created_by", sa.String(80), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("handed_at", sa.Float),
        sa.Column("handed_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("delivered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("deliveries_kiosk_state", "deliveries", ["kiosk_id", "state"])
    op.create_table(
        "daily_stats",
        sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
        sa.Column("requests_online", sa.Integer, nullable=False, server_default="0"),
        sa.Column("help_tickets", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sms_parts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("audit_at", "audit", ["at"])


def downgrade() -> None:
    for table in ("audit", "daily_stats", "deliveries", "notices", "sessions", "officials", "kiosks"):
        op.drop_table(table)
