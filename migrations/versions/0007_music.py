"""music: artists, albums, tracks and track_artists (issue 14, the catalog from tags)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('artists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('name_key', sa.String(length=600), nullable=False),
    sa.Column('sort_name', sa.String(length=512), nullable=False),
    sa.Column('musicbrainz_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name_key')
    )
    op.create_table('albums',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=False),
    sa.Column('title_key', sa.String(length=600), nullable=False),
    sa.Column('album_artist_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('is_compilation', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('musicbrainz_id', sa.String(length=36), nullable=True),
    sa.Column('cover_image', sa.String(length=256), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['album_artist_id'], ['artists.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('album_artist_id', 'title_key', name='uq_albums_artist_title')
    )
    op.create_index('ix_albums_album_artist_id', 'albums', ['album_artist_id'], unique=False)
    op.create_table('tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('media_file_id', sa.Integer(), nullable=False),
    sa.Column('album_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=False),
    sa.Column('disc_number', sa.Integer(), nullable=True),
    sa.Column('track_number', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.BigInteger(), nullable=True),
    sa.Column('genres', sa.JSON(), nullable=False),
    sa.Column('composers', sa.JSON(), nullable=False),
    sa.Column('replaygain_track_gain_db', sa.Float(), nullable=True),
    sa.Column('replaygain_track_peak', sa.Float(), nullable=True),
    sa.Column('replaygain_album_gain_db', sa.Float(), nullable=True),
    sa.Column('replaygain_album_peak', sa.Float(), nullable=True),
    sa.Column('musicbrainz_track_id', sa.String(length=36), nullable=True),
    sa.Column('musicbrainz_album_id', sa.String(length=36), nullable=True),
    sa.Column('is_audiobook', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id']),
    sa.ForeignKeyConstraint(['media_file_id'], ['media_files.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('media_file_id')
    )
    op.create_index('ix_tracks_album_id', 'tracks', ['album_id'], unique=False)
    op.create_table('track_artists',
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['artist_id'], ['artists.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('track_id', 'artist_id')
    )
    op.create_index('ix_track_artists_artist_id', 'track_artists', ['artist_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_track_artists_artist_id', table_name='track_artists')
    op.drop_table('track_artists')
    op.drop_index('ix_tracks_album_id', table_name='tracks')
    op.drop_table('tracks')
    op.drop_index('ix_albums_album_artist_id', table_name='albums')
    op.drop_table('albums')
    op.drop_table('artists')
