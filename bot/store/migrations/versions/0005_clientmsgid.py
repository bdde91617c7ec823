"""posts.clientmsgid and the installation's id: mass-send clientmsgids unique per installation

A mass send's clientmsgid was ``bot-post-<id>``, so a restored backup or a second database
sent a new post under an old one's clientmsgid and "adopted" the old send (45065). It is now
chosen at a post's first send (the installation's id, the post's id and a random nonce) and
kept on the post. Sends in flight keep their old clientmsgid for their 24-hour window.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 00:50:00
"""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clientmsgid", sa.String(64), nullable=False, server_default="")
        )
    op.execute(
        "UPDATE posts SET clientmsgid = 'bot-post-' || CAST(id AS VARCHAR(20)) "
        "WHERE delivery = 'mass_send' AND submitted_at IS NOT NULL"
    )
    table = op.create_table(
        "installation",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.bulk_insert(
        table, [{"id": secrets.token_hex(8), "created_at": datetime.now(UTC).replace(tzinfo=None)}]
    )


def downgrade() -> None:
    op.drop_table("installation")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("clientmsgid")
