"""resources.cover_problem: why a resource's cover did not load, so drafting passes it over

Automatic drafting took the catalogue's resources in a fixed order; one whose cover could not
be loaded (a dead link, or a host the fetcher refuses) failed every draft and every slot of
every column featuring its kind (security re-check 6, M1). Drafting now notes the reason here
and passes the resource over until its cover changes (an import with another cover clears it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(
            sa.Column("cover_problem", sa.Text, nullable=False, server_default=sa.text("''"))
        )


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("cover_problem")
