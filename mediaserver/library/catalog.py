"""The catalog use case: what each file is (a movie, or episodes of a show), matched on TMDB.

Per file: `prepare` (guessit on the path, NFO sidecars that take precedence, subtitle sidecars; no
database, so it can run in the scan's probe pool) -> `catalog_files` links it to a movie or show
found by TMDB id (from `[tmdbid-N]` or an NFO), else by the same guess as an earlier file (no TMDB
request), else by `TMDBClient.find_movie/find_show` (scored, never "first result wins"), else an
unmatched row with its best candidates. An admin's "fix match" (`enrich.apply_match`) is stored on
the movie or show, so files of that title found later join it and no rescan re-matches it.
Audio-only files are music: `prepare_probed` reads their tags in the probe pool and `Cataloguer.add`
hands them to `music.catalog_track` (artists, albums, tracks).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..exceptions import TMDBError
from ..models import Episode, MediaFile, Movie, Season, Show, Stream, Subtitle, Track
from ..scanner.names import NameGuess, guess_from_path
from ..scanner.nfo import nfo_for
from ..scanner.sidecars import SidecarSubtitle, find_sidecars
from ..text import normalize_title
from . import music
from .enrich import Breaker, candidates_json, fill_details, fill_episode, fill_season, tmdb_season
from .files import COMMIT_INTERVAL_S

if TYPE_CHECKING:
    from ..scanner.tmdb import TMDBClient

log = logging.getLogger("mediaserver.catalog")


@dataclass(frozen=True)
class Prepared:
    """What the file system says of a file: the name guess (NFO applied) and its sidecar subtitles."""

    guess: NameGuess
    subtitles: tuple[SidecarSubtitle, ...]


@dataclass
class CatalogSummary:
    """What one catalog pass did: files linked to movies and episodes, titles left unmatched."""

    movies: int = 0
    episodes: int = 0
    unmatched: int = 0
    tracks: int = 0
    unplaced: list[str] = field(default_factory=list)  # episode files whose episode could not be told
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        if not (self.movies or self.episodes or self.unplaced or self.tracks):
            return "catalog: no new file to name"
        line = f"catalog: {self.movies} movie file(s), {self.episodes} episode file(s), {self.unmatched} unmatched"
        line += f", {self.tracks} music track(s)" if self.tracks else ""
        return line + (f", {len(self.unplaced)} episode file(s) without an episode number" if self.unplaced else "")


def guess_key(kind: str, title: str, year: int | None) -> str:
    """Groups files of one title before (or without) a TMDB match: `movie|robocop|2014`."""
    return f"{kind}|{normalize_title(title)}|{year or ''}"


def is_video(streams) -> bool:
    """Whether a file has a real video stream (cover art aside): only those become movies or episodes."""
    return any(s.type == "video" and not s.attached_pic for s in streams)


def prepare_probed(root: str, rel_path: str, probed):
    """`prepare` for a file the scan just probed (`probed`: its ProbeResult), in the probe pool's process:
    a video file's `Prepared`; for music (`music.is_music`) its tags, `tagreader.RawTags` or `TagFailure`
    (`music.read_tags`: no second ffprobe, no name parsing); None for anything else."""
    if is_video(probed.streams):
        return prepare(root, rel_path)
    return music.read_tags(root, rel_path) if music.is_music(probed.streams) else None


def prepare(root: str, rel_path: str) -> Prepared:
    """Read names, NFO and subtitle sidecars for the file at `root`/`rel_path` (file system only)."""
    abs_path = os.path.join(root, rel_path)
    return Prepared(nfo_for(abs_path, root, guess_from_path(rel_path)), tuple(find_sidecars(abs_path, root)))


def files_to_catalog(session: Session) -> list[int]:
    """Ids of readable files a catalog pass left undone (it failed, or an older version skipped them):
    video files not linked to a movie or an episode, and music files (an audio stream, no real video)
    without a track. Once linked or made a track they are not retried on every scan."""
    has_video = MediaFile.streams.any((Stream.type == "video") & ~Stream.attached_pic)
    has_audio = MediaFile.streams.any(Stream.type == "audio")
    video = has_video & MediaFile.movie_id.is_(None) & ~MediaFile.episodes.any()
    audio = ~has_video & has_audio & MediaFile.id.not_in(select(Track.media_file_id))
    return list(session.scalars(select(MediaFile.id).where(MediaFile.status == "ok", video | audio)
                                .order_by(MediaFile.id)))


class Cataloguer:
    """One catalog pass: `add` links a media file (a video file not linked yet) and refreshes its sidecar
    subtitles, or makes a music file's track (`music.catalog_track`, covers into `images_dir`), committing. The scan calls it as
    each file is stored, so linking (and TMDB) overlaps the other files' probing. TMDB failures leave
    titles with status `error` (retried by the next scan); after BREAKER_FAILURES in a row TMDB is
    left alone for the rest of the pass. `summary` tells what was done.
    """

    def __init__(self, session: Session, client: TMDBClient | None, images_dir: str | None = None) -> None:
        self.session, self.breaker, self.summary = session, Breaker(client), CatalogSummary()
        self.images_dir = images_dir
        self.seen: set[int] = set()
        self.album_places: set[tuple[str, str]] = set()  # music.album_place of each track made
        self.last_commit = time.monotonic()

    def add(self, media_id: int, info=None) -> None:
        """Catalog one file (once per pass); `info` is `prepare_probed`'s result when already made (a
        `Prepared`, or a music file's tags). A music file with a track and no `info` (moved: the same
        row) keeps its track untouched."""
        session, summary = self.session, self.summary
        media = session.get(MediaFile, media_id)
        if media is None or media.status != "ok" or media_id in self.seen:
            return
        self.seen.add(media_id)
        if not is_video(media.streams):
            if music.is_music(media.streams) and (info is not None or media.track is None):
                self._add_track(media, None if isinstance(info, Prepared) else info)
            return
        if not isinstance(info, Prepared):
            info = None
        info = info or prepare(media.root, media.path)
        _set_subtitles(media, info.subtitles)
        if self.breaker.client is not None:
            session.commit()  # a TMDB failure below must roll back only the linking
        if media.movie_id is None and not media.episodes:
            try:
                _link(session, media, info.guess, self.breaker, summary)
                self.breaker.ok()
            except TMDBError as exc:
                session.rollback()
                self.breaker.failed()
                summary.errors.append(f"{media.path}: TMDB: {exc}")
                if not (info.guess.imdb_id and not info.guess.tmdb_id):
                    _link(session, session.get(MediaFile, media_id), info.guess, Breaker(None), summary,
                          status="error")
                # else: only TMDB can turn the IMDb id into a title; the file stays unlinked, and the
                # next scan tries again (files_to_catalog)
        self.commit(force=self.breaker.client is not None)

    def _add_track(self, media: MediaFile, raw) -> None:
        """`music.catalog_track` inside a savepoint (the scan flushed the file's row, so a transaction is
        open): whatever goes wrong costs that one track, never the scan nor the rows stored before it; the
        next scan tries again (`files_to_catalog`)."""
        try:
            with self.session.begin_nested():
                music.catalog_track(self.session, media, raw, self.images_dir)
        except Exception as exc:  # noqa: BLE001 - bad input must not stop the scan
            log.warning("track of %s not catalogued: %s", media.path, exc, exc_info=True)
            self.summary.errors.append(f"{media.path}: music: {exc}")
            return
        self.summary.tracks += 1
        self.album_places.add(music.album_place(media))
        self.commit(force=False)

    def commit(self, force: bool = True) -> None:
        """Commit now, or (not forced: nothing to roll back) at most every COMMIT_INTERVAL_S."""
        if force or time.monotonic() - self.last_commit >= COMMIT_INTERVAL_S:
            self.session.commit()
            self.last_commit = time.monotonic()


def _set_subtitles(media: MediaFile, found: tuple[SidecarSubtitle, ...]) -> None:
    """Make `media.subtitles` what the folder holds (untouched when it already is)."""
    wanted = [(s.path, s.language, s.forced, s.sdh, s.format) for s in found]
    if [(s.path, s.language, s.forced, s.sdh, s.format) for s in media.subtitles] != wanted:
        media.subtitles = [Subtitle(path=p, language=lang, forced=f, sdh=h, format=fmt) for p, lang, f, h, fmt in wanted]


def catalog_files(session: Session, media_ids: list[int], client: TMDBClient | None) -> CatalogSummary:
    """Catalog the given media files in one pass (see Cataloguer)."""
    cataloguer = Cataloguer(session, client)
    for media_id in media_ids:
        cataloguer.add(media_id)
    cataloguer.commit()
    return cataloguer.summary


def _link(session: Session, media: MediaFile, guess: NameGuess, breaker: Breaker, summary: CatalogSummary,
          status: str | None = None) -> None:
    if guess.imdb_id and not guess.tmdb_id and breaker.client is not None:
        # `[imdbid-tt...]` or an NFO's IMDb id: as good as a TMDB id, once TMDB translates it.
        found = breaker.client.find_by_imdb(guess.imdb_id)
        wanted = "tv" if guess.kind == "episode" and guess.episodes else "movie"
        if found is not None and found[0] == wanted:
            guess = replace(guess, tmdb_id=found[1])
    if guess.kind == "episode" and not guess.episodes:
        # `Show/Season 01/Pilot.mkv`: find the number by the episode's title on TMDB, or leave the
        # file under Files (never filed as a film of the show's name); a later scan tries again.
        numbered = _number_by_title(session, guess, breaker, status)
        if numbered is None:
            summary.unplaced.append(media.path)
            return
        guess = numbered
    if guess.kind == "episode" and guess.episodes:
        show = _title(session, Show, guess, breaker, status)
        season = _season(session, show, guess.season if guess.season is not None else 1, breaker.client)
        numbered = {e.get("episode_number"): e for e in tmdb_season(show, season.number, breaker.client)
                    .get("episodes") or []}
        for number in guess.episodes:
            episode = _episode(session, season, number)
            fill_episode(episode, numbered.get(number) or {})
            if episode.title is None and len(guess.episodes) == 1:
                episode.title = guess.episode_title
            if media not in episode.files:
                episode.files.append(media)
        summary.episodes += 1
        summary.unmatched += show.tmdb_id is None
    else:
        movie = _title(session, Movie, guess, breaker, status)
        media.movie = movie
        summary.movies += 1
        summary.unmatched += movie.tmdb_id is None


def _number_by_title(session: Session, guess: NameGuess, breaker: Breaker, status: str | None) -> NameGuess | None:
    """The guess with its episode number, found by comparing its episode title with TMDB's season."""
    if not guess.episode_title or breaker.client is None:
        return None
    show = _title(session, Show, guess, breaker, status)
    wanted = normalize_title(guess.episode_title)
    for item in tmdb_season(show, guess.season if guess.season is not None else 1, breaker.client).get("episodes") or []:
        if item.get("episode_number") is not None and normalize_title(item.get("name") or "") == wanted:
            return replace(guess, episodes=(item["episode_number"],))
    return None


def _title(session: Session, model: type[Movie] | type[Show], guess: NameGuess, breaker: Breaker,
           status: str | None):
    """The movie or show this guess names: by TMDB id, by an earlier identical guess, by search."""
    client = breaker.client
    key = guess_key("movie" if model is Movie else "show", guess.title, guess.year)
    same_guess = session.scalar(select(model).where(model.guess_key == key)
                                .order_by(model.tmdb_id.is_(None), model.id).limit(1))
    if guess.tmdb_id:
        found = session.scalar(select(model).where(model.tmdb_id == guess.tmdb_id))
        if found is not None:
            return found
        # An unmatched row of the same guess adopts the id rather than a second row being made.
        row = same_guess if same_guess is not None and same_guess.tmdb_id is None else None
        if row is None:
            row = model(title=guess.title, year=guess.year, overview=guess.plot, guess_key=key)
            session.add(row)
        row.tmdb_id, row.match_status, row.candidates = guess.tmdb_id, "nfo" if guess.source == "nfo" else "id", None
        if client is not None:
            fill_details(session, row, client)
        else:  # the id is known but not its details: a later scan with TMDB fills them in
            row.match_status = status or breaker.offline_status
        return row
    if same_guess is not None:
        return same_guess
    if client is None:
        row = model(title=guess.title, year=guess.year, overview=guess.plot, guess_key=key,
                    match_status=status or breaker.offline_status)
        session.add(row)
        return row
    decision = (client.find_movie(guess.title, guess.year) if model is Movie
                else client.find_show(guess.title, guess.year, guess.country))
    if decision.best is not None:
        found = session.scalar(select(model).where(model.tmdb_id == decision.best.tmdb_id))
        if found is not None:
            return found
        row = model(title=decision.best.title, year=decision.best.year, guess_key=key,
                    tmdb_id=decision.best.tmdb_id, match_status="matched", candidates=candidates_json(decision))
        session.add(row)
        fill_details(session, row, client)
        return row
    row = model(title=guess.title, year=guess.year, overview=guess.plot, guess_key=key,
                match_status="unmatched", candidates=candidates_json(decision))
    session.add(row)
    return row


def prune(session: Session) -> int:
    """Delete episodes, seasons, shows and movies no file belongs to any more (after a rescan
    removed their files). Returns how many movies and shows went."""
    gone = 0
    for episode in session.scalars(select(Episode).where(~Episode.files.any())):
        session.delete(episode)
    session.flush()
    for season in session.scalars(select(Season).where(~Season.episodes.any())):
        session.delete(season)
    session.flush()
    for row in [*session.scalars(select(Show).where(~Show.seasons.any())),
                *session.scalars(select(Movie).where(~Movie.files.any()))]:
        session.delete(row)
        gone += 1
    session.commit()
    return gone


def _season(session: Session, show: Show, number: int, client: TMDBClient | None) -> Season:
    session.flush()
    season = session.scalar(select(Season).where(Season.show_id == show.id, Season.number == number))
    if season is None:
        season = Season(show=show, number=number)
        session.add(season)
        fill_season(season, client)
    return season


def _episode(session: Session, season: Season, number: int) -> Episode:
    session.flush()
    episode = session.scalar(select(Episode).where(Episode.season_id == season.id, Episode.number == number))
    if episode is None:
        episode = Episode(season=season, number=number)
        session.add(episode)
        session.flush()
    return episode
