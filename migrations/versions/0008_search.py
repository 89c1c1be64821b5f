"""search: search_text on episodes, artists, albums and tracks (issue 14, GET /api/search)

Each is the row's title or name in `mediaserver.text.search_form` (no case, accents, punctuation or
leading article), filled here for the rows that exist; the models keep it up to date afterwards.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

from mediaserver.text import SEARCH_CHARS, search_form


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: table -> the column its search_text is made from
SOURCES = {'episodes': 'title', 'artists': 'name', 'albums': 'title', 'tracks': 'title'}


def upgrade() -> None:
    bind = op.get_bind()
    for table, source in SOURCES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('search_text', sa.String(length=SEARCH_CHARS), nullable=True))
        rows = sa.table(table, sa.column('id', sa.Integer), sa.column(source, sa.String),
                        sa.column('search_text', sa.String))
        for row_id, text in bind.execute(sa.select(rows.c.id, rows.c[source])).all():
            bind.execute(rows.update().where(rows.c.id == row_id).values(search_text=search_form(text)))


def downgrade() -> None:
    for table in SOURCES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('search_text')
