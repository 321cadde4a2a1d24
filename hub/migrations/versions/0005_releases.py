"""Software releases offered to the kiosks (`tdp hub release FILE`): the package itself is kept in
the database so every hub process (and a PostgreSQL-backed hub) serves the same bytes.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.String(40), nullable=False, unique=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("releases")
