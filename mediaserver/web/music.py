"""Music: the JSON API of artists, albums and tracks (issue 14), paginated and sorted like the title
lists (`pagination.py`). The catalog is made by the scan (`library/music.py`); covers are files of the
image cache, served by `titles.image` like the posters."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..db import get_db
from ..models import Album, Artist, Track, TrackArtist
from ..text import normalize_title
from .auth import login_required
from .pagination import get_or_404, int_arg, ordering, paginate

bp = Blueprint("music", __name__)


def cover_url(album: Album) -> str | None:
    """The album's cover in the image cache (`/images/cover-<hash>.<ext>`), None when it has none."""
    return url_for("titles.image", name=album.cover_image) if album.cover_image else None


def artist_ref(artist: Artist) -> dict:
    """An artist as other items name it: `{"id", "name"}`."""
    return {"id": artist.id, "name": artist.name}


def track_json(track: Track) -> dict:
    """A track (docs/API.md): `artists` in credit order; disc and track numbers as tagged (null when
    untagged); `duration_ms` in ms; `year` and `cover_url` the album's."""
    album = track.album
    return {
        "id": track.id, "media_file_id": track.media_file_id, "title": track.title,
        "artists": [artist_ref(a) for a in track.artists], "album": album.title, "album_id": album.id,
        "album_artist": album.album_artist.name, "album_artist_id": album.album_artist_id,
        "disc_number": track.disc_number, "track_number": track.track_number, "duration_ms": track.duration_ms,
        "year": album.year, "genres": list(track.genres or []), "composers": list(track.composers or []),
        "is_audiobook": track.is_audiobook, "cover_url": cover_url(album),
        "replaygain": {"track_gain_db": track.replaygain_track_gain_db, "track_peak": track.replaygain_track_peak,
                       "album_gain_db": track.replaygain_album_gain_db, "album_peak": track.replaygain_album_peak},
    }


def album_json(album: Album, totals: dict[int, tuple[int, int]]) -> dict:
    """An album (docs/API.md); `totals` maps album ids to (track count, duration in ms) (`album_totals`)."""
    count, duration = totals.get(album.id, (0, 0))
    return {
        "id": album.id, "title": album.title, "album_artist": album.album_artist.name,
        "album_artist_id": album.album_artist_id, "year": album.year, "is_compilation": album.is_compilation,
        "musicbrainz_id": album.musicbrainz_id, "track_count": count, "duration_ms": duration,
        "cover_url": cover_url(album),
    }


def artist_json(artist: Artist, counts: dict[int, tuple[int, int, str | None]]) -> dict:
    """An artist; `counts` maps artist ids to (albums as album artist, tracks credited, a cover name)."""
    albums, tracks, cover = counts.get(artist.id, (0, 0, None))
    return {"id": artist.id, "name": artist.name, "musicbrainz_id": artist.musicbrainz_id,
            "album_count": albums, "track_count": tracks,
            "cover_url": url_for("titles.image", name=cover) if cover else None}


def album_totals(ids: list[int]) -> dict[int, tuple[int, int]]:
    """Album id -> (its tracks, their summed duration in ms), in one query."""
    rows = get_db().execute(select(Track.album_id, func.count(Track.id), func.coalesce(func.sum(Track.duration_ms), 0))
                            .where(Track.album_id.in_(ids)).group_by(Track.album_id))
    return {album_id: (count, int(duration)) for album_id, count, duration in rows}


def artist_counts(ids: list[int]) -> dict[int, tuple[int, int, str | None]]:
    """Artist id -> (albums they are the album artist of, tracks crediting them, a cover of theirs)."""
    db = get_db()
    albums = dict(db.execute(select(Album.album_artist_id, func.count(Album.id))
                             .where(Album.album_artist_id.in_(ids)).group_by(Album.album_artist_id)).all())
    tracks = dict(db.execute(select(TrackArtist.artist_id, func.count(TrackArtist.track_id))
                             .where(TrackArtist.artist_id.in_(ids)).group_by(TrackArtist.artist_id)).all())
    covers = dict(db.execute(select(Album.album_artist_id, func.min(Album.cover_image))
                             .where(Album.album_artist_id.in_(ids), Album.cover_image.is_not(None))
                             .group_by(Album.album_artist_id)).all())
    return {i: (albums.get(i, 0), tracks.get(i, 0), covers.get(i)) for i in ids}


def _page(query: Select, batch, render) -> dict:
    """`paginate`'s page with each row rendered as `render(row, batch(ids of the page's rows))`: what
    an item counts is asked once for the page, not once per item."""
    page = paginate(query, lambda row: row)
    extra = batch([row.id for row in page["items"]])
    page["items"] = [render(row, extra) for row in page["items"]]
    return page


def _q(query: Select, column) -> Select:
    """`q`: the name contains it, with case, accents and punctuation ignored (`text.normalize_title`)."""
    q = normalize_title(request.args.get("q", ""))  # letters, digits and spaces: nothing to escape for LIKE
    return query.where(column.like(f"%{q}%")) if q else query


def track_loads() -> tuple:
    """The loader options every listed track needs (its credits' artists, its album and album artist)."""
    return (selectinload(Track.credits).selectinload(TrackArtist.artist),
            selectinload(Track.album).selectinload(Album.album_artist))


#: `sort` values -> columns of each list; names sort on `search_text` ("The Beatles" under B).
ARTIST_SORTS = {"name": Artist.search_text}
ALBUM_SORTS = {"title": Album.search_text, "year": Album.year, "added": Album.created_at,
               "artist": Artist.search_text}
#: At most this many `ids` in one `GET /api/library/tracks`.
IDS_MAX = 500
TRACK_SORTS = {"title": Track.search_text, "duration": Track.duration_ms, "album": Album.search_text}


@bp.get("/api/library/artists")
@login_required
def api_artists():
    """`GET /api/library/artists?q&sort=name&order&page&per_page`: album artists and credited artists."""
    query = _q(select(Artist), Artist.search_text)
    return _page(query.order_by(*ordering(ARTIST_SORTS, "name", Artist.id)), artist_counts, artist_json)


@bp.get("/api/library/artists/<int:artist_id>")
@login_required
def api_artist(artist_id: int):
    """One artist with `albums` (theirs as album artist, by year then title) and `appears_on` (other
    albums with a track crediting them, such as compilations and features); 404 when unknown."""
    artist = get_or_404(Artist, artist_id)
    db = get_db()
    order = (Album.year.asc().nulls_last(), Album.search_text, Album.id)
    own = db.scalars(select(Album).where(Album.album_artist_id == artist.id).order_by(*order)).all()
    others = db.scalars(select(Album).where(Album.album_artist_id != artist.id, Album.tracks.any(
        Track.credits.any(TrackArtist.artist_id == artist.id))).order_by(*order)).all()
    totals = album_totals([a.id for a in own + others])
    return artist_json(artist, artist_counts([artist.id])) | {
        "albums": [album_json(a, totals) for a in own], "appears_on": [album_json(a, totals) for a in others]}


@bp.get("/api/library/albums")
@login_required
def api_albums():
    """`GET /api/library/albums?q&artist_id&year&sort=title|year|added|artist&order&page&per_page`;
    `artist_id` gives the albums of that album artist."""
    query = _q(select(Album).join(Album.album_artist), Album.search_text).options(selectinload(Album.album_artist))
    if request.args.get("artist_id"):
        query = query.where(Album.album_artist_id == int_arg("artist_id", 0, 1, 2**63 - 1))
    if request.args.get("year"):
        query = query.where(Album.year == int_arg("year", 0, 1, 9999))
    return _page(query.order_by(*ordering(ALBUM_SORTS, "title", Album.id)), album_totals, album_json)


@bp.get("/api/library/albums/<int:album_id>")
@login_required
def api_album(album_id: int):
    """One album with `tracks` in disc, then track order (untagged numbers last, then by title) and
    `disc_count`; 404 when unknown."""
    album = get_or_404(Album, album_id)
    tracks = get_db().scalars(select(Track).where(Track.album_id == album.id).options(*track_loads()).order_by(
        Track.disc_number.asc().nulls_last(), Track.track_number.asc().nulls_last(), Track.search_text, Track.id)).all()
    totals = {album.id: (len(tracks), sum(t.duration_ms or 0 for t in tracks))}
    discs = {t.disc_number or 1 for t in tracks}
    return album_json(album, totals) | {"disc_count": len(discs) if tracks else 0,
                                        "tracks": [track_json(t) for t in tracks]}


@bp.get("/api/library/tracks")
@login_required
def api_tracks():
    """`GET /api/library/tracks?q&album_id&artist_id&ids&sort=title|album|duration&order&page&per_page`;
    `artist_id` gives the tracks crediting that artist; `sort=album` keeps each album in disc/track order;
    `ids` (comma-separated, at most IDS_MAX) those tracks (the playback session's queue, music-session.js)."""
    query = _q(select(Track).join(Track.album), Track.search_text).options(*track_loads())
    if request.args.get("ids"):
        raw = request.args["ids"].split(",")
        if len(raw) > IDS_MAX or not all(part.isdigit() and len(part) < 19 for part in raw):
            abort(400, f"ids must be at most {IDS_MAX} comma-separated track ids")
        query = query.where(Track.id.in_([int(part) for part in raw]))
    if request.args.get("album_id"):
        query = query.where(Track.album_id == int_arg("album_id", 0, 1, 2**63 - 1))
    if request.args.get("artist_id"):
        artist_id = int_arg("artist_id", 0, 1, 2**63 - 1)
        query = query.where(Track.credits.any(TrackArtist.artist_id == artist_id))
    order = ordering(TRACK_SORTS, "title", Track.id)
    if request.args.get("sort") == "album":
        order = (order[0], Album.id, Track.disc_number.asc().nulls_last(), Track.track_number.asc().nulls_last(),
                 Track.id)
    return paginate(query.order_by(*order), track_json)


def init_app(app: Flask) -> None:
    """Register the music blueprint."""
    app.register_blueprint(bp)
