"""login_attempts(ok, at): counting a window's failed logins without reading every attempt

Each login counts the failed attempts of the last minutes. Successful attempts are kept 30
days (they say where a person logs in from), so without an index the count read every success
of the month too, and an account logging in again and again made everyone's logins slower
(security re-check 5, info).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:45:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_login_attempts_ok_at", "login_attempts", ["ok", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_ok_at", table_name="login_attempts")
