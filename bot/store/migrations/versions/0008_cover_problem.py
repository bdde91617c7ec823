"""resources.cover_problem, cover_retry_at: why a resource's cover did not load, and until when
drafting passes it over

Automatic drafting took the catalogue's resources in a fixed order; one whose cover could not
be loaded (a dead link, or a host the fetcher refuses) failed every draft and every slot of
every column featuring its kind (security re-checks 6 and 7, M1). Drafting now notes the reason
and passes the resource over until ``cover_retry_at`` (an hour for a cover that failed for the
moment, a week for one refused) or until an import gives it another cover.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 07:10:00
"""

import sqlalchemy as sa
from alembic import op

import bot.store.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(
            sa.Column("cover_problem", sa.Text, nullable=False, server_default=sa.text("''"))
        )
        batch.add_column(sa.Column("cover_retry_at", bot.store.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("cover_retry_at")
        batch.drop_column("cover_problem")
