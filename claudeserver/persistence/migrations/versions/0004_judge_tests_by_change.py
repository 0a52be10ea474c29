"""Judge tests by change: each test case's outcome before the task and whether it was flaky,
the baseline's and each round's duration, the session's baseline_failures and test_network
options; a test id is unique per task and type.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As persistence.testcases.stored_test_name at this revision (PostgreSQL indexes values
# of at most about 2.7 kB).
MAX_TEST_NAME_CHARS = 500


def _stored_name(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[: MAX_TEST_NAME_CHARS - 20]}…[{digest}]"


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("baseline_failures", sa.String(16), nullable=False, server_default="ignore")
        )
        batch_op.add_column(
            sa.Column("test_network", sa.String(16), nullable=False, server_default="loopback")
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("baseline_duration", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("round_durations", sa.JSON(), nullable=True))

    # Rows a runner reported twice (ids of inherited tests collapsed): the newest stays.
    op.execute(
        "DELETE FROM test_cases WHERE id NOT IN "
        "(SELECT MAX(id) FROM test_cases GROUP BY task_id, type, name)"
    )
    bind = op.get_bind()
    cases = sa.table("test_cases", sa.column("id", sa.Integer), sa.column("name", sa.Text))
    long_names = bind.execute(
        sa.select(cases.c.id, cases.c.name).where(
            sa.func.length(cases.c.name) > MAX_TEST_NAME_CHARS
        )
    ).all()
    for row_id, name in long_names:
        bind.execute(cases.update().where(cases.c.id == row_id).values(name=_stored_name(name)))
    with op.batch_alter_table("test_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("baseline_status", sa.String(16), nullable=True))
        batch_op.add_column(
            sa.Column("flaky", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_unique_constraint(
            "uq_test_cases_task_type_name", ["task_id", "type", "name"]
        )


def downgrade() -> None:
    with op.batch_alter_table("test_cases", schema=None) as batch_op:
        batch_op.drop_constraint("uq_test_cases_task_type_name", type_="unique")
        batch_op.drop_column("flaky")
        batch_op.drop_column("baseline_status")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("round_durations")
        batch_op.drop_column("baseline_duration")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("test_network")
        batch_op.drop_column("baseline_failures")
