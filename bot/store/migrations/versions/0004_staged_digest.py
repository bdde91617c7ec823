"""posts.staged_digest: what a post's platform draft was made from, when it was made ahead of
the slot

A queued post whose draft was made before its fire time keeps ``stage = drafted`` and the
digest of the articles the draft holds; at the slot the draft is used only if the articles
still have that digest (an edit since makes a new one). Empty for every existing post.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("staged_digest", sa.String(64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("staged_digest")
