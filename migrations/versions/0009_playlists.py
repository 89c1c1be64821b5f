"""playlists: a user's own playlists and their tracks in order (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:40:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('playlists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_playlists_user_id', 'playlists', ['user_id'], unique=False)
    op.create_table('playlist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('playlist_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['playlist_id'], ['playlists.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_playlist_items_playlist_id', 'playlist_items', ['playlist_id'], unique=False)
    op.create_index('ix_playlist_items_track_id', 'playlist_items', ['track_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_playlist_items_track_id', table_name='playlist_items')
    op.drop_index('ix_playlist_items_playlist_id', table_name='playlist_items')
    op.drop_table('playlist_items')
    op.drop_index('ix_playlists_user_id', table_name='playlists')
    op.drop_table('playlists')
