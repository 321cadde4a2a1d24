"""Console sends: a one-time form token per Compose form, corrections, test sends to the official's phone.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("form_token", sa.String(64)))
        batch.add_column(sa.Column("replaces", sa.Integer))
        batch.add_column(sa.Column("test_phone", sa.String(20)))
        batch.create_unique_constraint("notices_form_token", ["form_token"])


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint("notices_form_token", type_="unique")
        batch.drop_column("test_phone")
        batch.drop_column("replaces")
        batch.drop_column("form_token")
