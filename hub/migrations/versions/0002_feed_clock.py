"""A hub-wide change counter ("feed clock"): bumped by every notice send/cancel and token revocation,
so each hub process can answer idle polls from memory and notice any change within a fraction of a second.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "hub_state",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False, server_default="0"),
    )
    op.bulk_insert(table, [{"key": "feed_clock", "value": 0}])


def downgrade() -> None:
    op.drop_table("hub_state")
