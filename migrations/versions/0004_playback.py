"""playback: stream facts for the direct play / remux / transcode decision, job attempts, resume positions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('streams') as batch:
        batch.add_column(sa.Column('level', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('pix_fmt', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('color_transfer', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('color_primaries', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('is_vfr', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('forced', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('media_files') as batch:
        batch.add_column(sa.Column('probe_version', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('transcode_jobs') as batch:
        batch.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    op.create_table('playback_positions',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('media_file_id', sa.Integer(), nullable=False),
    sa.Column('position_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['media_file_id'], ['media_files.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'media_file_id')
    )


def downgrade() -> None:
    op.drop_table('playback_positions')
    with op.batch_alter_table('transcode_jobs') as batch:
        batch.drop_column('attempts')
    with op.batch_alter_table('media_files') as batch:
        batch.drop_column('probe_version')
    with op.batch_alter_table('streams') as batch:
        for column in ('forced', 'is_vfr', 'color_primaries', 'color_transfer', 'pix_fmt', 'level'):
            batch.drop_column(column)
