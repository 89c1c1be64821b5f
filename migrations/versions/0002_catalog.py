"""catalog: movies, shows, seasons, episodes, genres, subtitles, file fingerprints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 00:53:41.932903
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('genres',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('movies',
    sa.Column('release_date', sa.String(length=10), nullable=True),
    sa.Column('runtime_min', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tmdb_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=512), nullable=False),
    sa.Column('original_title', sa.String(length=512), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('overview', sa.Text(), nullable=True),
    sa.Column('poster', sa.String(length=256), nullable=True),
    sa.Column('backdrop', sa.String(length=256), nullable=True),
    sa.Column('match_status', sa.String(length=16), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=True),
    sa.Column('cast', sa.JSON(), nullable=True),
    sa.Column('guess_key', sa.String(length=600), nullable=True),
    sa.Column('search_text', sa.String(length=1100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('movies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_movies_guess_key'), ['guess_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_movies_tmdb_id'), ['tmdb_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_movies_year'), ['year'], unique=False)

    op.create_table('shows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_air_date', sa.String(length=10), nullable=True),
    sa.Column('tmdb_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=512), nullable=False),
    sa.Column('original_title', sa.String(length=512), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('overview', sa.Text(), nullable=True),
    sa.Column('poster', sa.String(length=256), nullable=True),
    sa.Column('backdrop', sa.String(length=256), nullable=True),
    sa.Column('match_status', sa.String(length=16), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=True),
    sa.Column('cast', sa.JSON(), nullable=True),
    sa.Column('guess_key', sa.String(length=600), nullable=True),
    sa.Column('search_text', sa.String(length=1100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('shows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shows_guess_key'), ['guess_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_shows_tmdb_id'), ['tmdb_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shows_year'), ['year'], unique=False)

    op.create_table('movie_genres',
    sa.Column('movie_id', sa.Integer(), nullable=False),
    sa.Column('genre_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['genre_id'], ['genres.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['movie_id'], ['movies.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('movie_id', 'genre_id')
    )
    op.create_table('seasons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('show_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=True),
    sa.Column('overview', sa.Text(), nullable=True),
    sa.Column('poster', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['show_id'], ['shows.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('show_id', 'number', name='uq_seasons_show_number')
    )
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seasons_show_id'), ['show_id'], unique=False)

    op.create_table('show_genres',
    sa.Column('show_id', sa.Integer(), nullable=False),
    sa.Column('genre_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['genre_id'], ['genres.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['show_id'], ['shows.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('show_id', 'genre_id')
    )
    op.create_table('episodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=True),
    sa.Column('overview', sa.Text(), nullable=True),
    sa.Column('air_date', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['season_id'], ['seasons.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('season_id', 'number', name='uq_episodes_season_number')
    )
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_episodes_season_id'), ['season_id'], unique=False)

    op.create_table('subtitles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('media_file_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=2048), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.Column('sdh', sa.Boolean(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['media_file_id'], ['media_files.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subtitles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subtitles_media_file_id'), ['media_file_id'], unique=False)

    op.create_table('episode_files',
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('media_file_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['media_file_id'], ['media_files.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('episode_id', 'media_file_id')
    )
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('movie_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_media_files_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_files_movie_id'), ['movie_id'], unique=False)
        batch_op.create_foreign_key('fk_media_files_movie_id', 'movies', ['movie_id'], ['id'], ondelete='SET NULL')




def downgrade() -> None:

    with op.batch_alter_table('media_files', schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint('fk_media_files_movie_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_media_files_movie_id'))
        batch_op.drop_index(batch_op.f('ix_media_files_fingerprint'))
        batch_op.drop_column('movie_id')
        batch_op.drop_column('fingerprint')

    op.drop_table('episode_files')
    with op.batch_alter_table('subtitles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subtitles_media_file_id'))

    op.drop_table('subtitles')
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_episodes_season_id'))

    op.drop_table('episodes')
    op.drop_table('show_genres')
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seasons_show_id'))

    op.drop_table('seasons')
    op.drop_table('movie_genres')
    with op.batch_alter_table('shows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shows_year'))
        batch_op.drop_index(batch_op.f('ix_shows_tmdb_id'))
        batch_op.drop_index(batch_op.f('ix_shows_guess_key'))

    op.drop_table('shows')
    with op.batch_alter_table('movies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_movies_year'))
        batch_op.drop_index(batch_op.f('ix_movies_tmdb_id'))
        batch_op.drop_index(batch_op.f('ix_movies_guess_key'))

    op.drop_table('movies')
    op.drop_table('genres')

