"""posts(needs_attention, id): the health check's "does any post need a person" without a scan

``/healthz`` and the dashboard ask for the newest post that needs a person. Without an index
SQLite walked every post from the newest back (35 ms over a hundred accounts' year of posts,
on every probe), which is most of what a health check cost under load.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:45:00
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_attention", "posts", ["needs_attention", "id"])


def downgrade() -> None:
    op.drop_index("ix_posts_attention", table_name="posts")
