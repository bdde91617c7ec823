"""cover_copies: the bytes of each post's http(s) covers, kept when the post is stored

Publishing fetched a post's cover from the editor's URL at publish time, inside the account's
one publishing lane: a host that had since stopped answering held every post of the account
behind it for up to five fetches of 20 s (security re-check 8, M3). Drafting and edits now keep
the cover they loaded and checked, with the post, and publishing uploads that copy. Each
person's copies together have a limit (``owner``): one editor cannot use up everyone's room
(security re-check 10, M1). ``posts.covers_digest`` makes the kept images part of a post's
version: an approval names the pictures the reviewer saw (security re-check 11, M1).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:10:00
"""

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cover_copies",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("url_sha256", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("kept_at", bot.store.tables.UTCDateTime(), nullable=False),
        # Last: SQLite reads a row's columns in order, so summing ``size`` skips the image.
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_cover_copies_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "url_sha256", name=op.f("pk_cover_copies")),
    )
    op.create_index(op.f("ix_cover_copies_owner"), "cover_copies", ["owner"])
    with op.batch_alter_table("posts") as batch:
        batch.add_column(
            sa.Column("covers_digest", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("covers_digest")
    op.drop_index(op.f("ix_cover_copies_owner"), table_name="cover_copies")
    op.drop_table("cover_copies")
