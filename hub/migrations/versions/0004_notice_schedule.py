"""Scheduled and recurring notices (a local time each kiosk reads in its own timezone, a repeat),
questions, and per-kiosk question counts and refusal reasons on deliveries.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("at_local", sa.String(16)))
        batch.add_column(sa.Column("every", sa.String(5), nullable=False, server_default=""))
        batch.add_column(sa.Column("ask", sa.String(200), nullable=False, server_default=""))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("answers", sa.Text, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("detail", sa.String(120), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("detail")
        batch.drop_column("answers")
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("ask")
        batch.drop_column("every")
        batch.drop_column("at_local")
