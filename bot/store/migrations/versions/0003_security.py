"""security: server-side web sessions, callback signatures seen, who drafted and edited a post

``web_sessions`` makes a login revocable (logout, password or role change, user deletion end
it); ``callback_signatures`` remembers each push's signature and body hash for the replay
window; ``posts.created_by``/``edited_by`` let review refuse a reviewer's own work.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:10:00
"""

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.store.tables.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bot.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "callback_signatures",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("seen_at", bot.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "signature", name=op.f("pk_callback_signatures")),
    )
    with op.batch_alter_table("callback_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_signatures_seen_at"), ["seen_at"], unique=False
        )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("created_by", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("edited_by", sa.String(length=100), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("edited_by")
        batch_op.drop_column("created_by")
    with op.batch_alter_table("callback_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_signatures_seen_at"))
    op.drop_table("callback_signatures")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
    op.drop_table("web_sessions")
