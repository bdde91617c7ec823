"""multi-article posts: post_articles, and which article features each resource

A post's own row stays its headline article, so existing posts need no data moved: each is a
post of one article, with no post_articles rows and every resource featured by article 0.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 23:58:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_articles",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("content_html", sa.Text(), nullable=False),
        sa.Column("content_source_url", sa.Text(), nullable=False),
        sa.Column("cover", sa.Text(), nullable=False),
        sa.Column("thumb_media_id", sa.Text(), nullable=False),
        sa.Column("article_url", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_articles_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "position", name=op.f("pk_post_articles")),
    )
    with op.batch_alter_table("post_resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("article", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("post_resources", schema=None) as batch_op:
        batch_op.drop_column("article")
    op.drop_table("post_articles")
