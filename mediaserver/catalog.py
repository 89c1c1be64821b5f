"""The catalog use case: what each new file is (a movie, or episodes of a show), matched on TMDB.

Per file: `names.guess_from_path` -> NFO sidecars (`nfo.nfo_for`, which take precedence) -> a movie
or show found by TMDB id (from `[tmdbid-N]` or an NFO), else by the same guess as an earlier file
(no TMDB request), else by `TMDBClient.find_movie/find_show` (scored, never "first result wins"),
else kept unmatched with its best candidates. Sidecar subtitles are linked to their video.
An admin's "fix match" (`apply_match` with `manual=True`) is stored on the movie or show, so files
of the same title found later join it and no rescan re-matches it.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import images
from .models import Episode, Genre, MediaFile, Movie, Season, Show, Subtitle
from .scanner.match import MatchDecision, normalize_title
from .scanner.names import NameGuess, guess_from_path
from .scanner.nfo import nfo_for
from .scanner.sidecars import find_sidecars
from .scanner.tmdb import TMDBClient, TMDBError

log = logging.getLogger("mediaserver.catalog")
#: Cast members kept per title (the top of TMDB's billing order).
CAST_LIMIT = 12


@dataclass
class CatalogSummary:
    """What one catalog pass did: files linked to movies and episodes, titles left unmatched."""

    movies: int = 0
    episodes: int = 0
    unmatched: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"catalog: {self.movies} movie file(s), {self.episodes} episode file(s), {self.unmatched} unmatched"


def guess_key(kind: str, title: str, year: int | None) -> str:
    """Groups files of one title before (or without) a TMDB match: `movie|robocop|2014`."""
    return f"{kind}|{normalize_title(title)}|{year or ''}"


def catalog_files(session: Session, media_ids: list[int], client: TMDBClient | None) -> CatalogSummary:
    """Catalog the given media files (readable video files not yet linked; audio-only files such as
    music are left to the Files list); commits per file.

    A TMDB failure (network, 5xx after retries) leaves that title unmatched with the reason logged;
    the scan goes on.
    """
    summary = CatalogSummary()
    for media_id in media_ids:
        media = session.get(MediaFile, media_id)
        if media is None or media.status != "ok":
            continue
        abs_path = os.path.join(media.root, media.path)
        media.subtitles = [Subtitle(path=s.path, language=s.language, forced=s.forced, sdh=s.sdh, format=s.format)
                           for s in find_sidecars(abs_path, media.root)]
        is_video = any(s.type == "video" and not s.attached_pic for s in media.streams)
        if is_video and media.movie_id is None and not media.episodes:  # music stays under Files
            guess = nfo_for(abs_path, media.root, guess_from_path(media.path))
            try:
                _link(session, media, guess, client, summary)
            except TMDBError as exc:
                session.rollback()
                summary.errors.append(f"{media.path}: TMDB: {exc}")
                log.warning("TMDB lookup for %s failed: %s", media.path, exc)
                media = session.get(MediaFile, media_id)
                _link(session, media, guess, None, summary)
        session.commit()
    return summary


def _link(session: Session, media: MediaFile, guess: NameGuess, client: TMDBClient | None,
          summary: CatalogSummary) -> None:
    if guess.kind == "episode" and guess.episodes:
        show = _title(session, Show, guess, client)
        season = _season(session, show, guess.season if guess.season is not None else 1, client)
        tmdb_episodes = _tmdb_episodes(show, season.number, client)
        for number in guess.episodes:
            episode = _episode(session, season, number)
            info = tmdb_episodes.get(number) or {}
            episode.title = info.get("name") or episode.title or (
                guess.episode_title if len(guess.episodes) == 1 else None)
            episode.overview = info.get("overview") or episode.overview
            episode.air_date = info.get("air_date") or episode.air_date
            if media not in episode.files:
                episode.files.append(media)
        summary.episodes += 1
        summary.unmatched += show.tmdb_id is None
    else:
        movie = _title(session, Movie, guess, client)
        media.movie = movie
        summary.movies += 1
        summary.unmatched += movie.tmdb_id is None


def _title(session: Session, model: type[Movie] | type[Show], guess: NameGuess, client: TMDBClient | None):
    """The movie or show this guess names: by TMDB id, by an earlier identical guess, by search."""
    kind = "movie" if model is Movie else "show"
    key = guess_key(kind, guess.title, guess.year)
    if guess.tmdb_id:
        found = session.scalar(select(model).where(model.tmdb_id == guess.tmdb_id))
        if found is not None:
            return found
        row = model(title=guess.title, year=guess.year, overview=guess.plot, guess_key=key,
                    tmdb_id=guess.tmdb_id, match_status="nfo" if guess.source == "nfo" else "id")
        session.add(row)
        if client is not None:
            fill_details(session, row, client)
        return row
    found = session.scalar(select(model).where(model.guess_key == key).limit(1))
    if found is not None:
        return found
    if client is None:
        row = model(title=guess.title, year=guess.year, overview=guess.plot, guess_key=key, match_status="off")
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


def candidates_json(decision: MatchDecision) -> list[dict]:
    """The scored candidates as stored: `[{"tmdb_id", "title", "year", "score"}]`, best first."""
    return [{"tmdb_id": c.tmdb_id, "title": c.title, "year": c.year, "score": round(s, 3)} for c, s in decision.scored]


def apply_match(session: Session, row: Movie | Show, tmdb_id: int, client: TMDBClient) -> Movie | Show:
    """An admin's choice: `row` becomes TMDB title `tmdb_id` (status `manual`), details refreshed.

    When another movie or show already holds that id, `row`'s files move to it and `row` goes.
    Returns the row that now holds the match. Raises TMDBError when TMDB does not know the id.
    """
    model = type(row)
    other = session.scalar(select(model).where(model.tmdb_id == tmdb_id, model.id != row.id))
    target = other or row
    target.tmdb_id, target.match_status = tmdb_id, "manual"
    fill_details(session, target, client)
    if other is not None:
        if model is Movie:
            for media in list(row.files):
                media.movie = other
        else:
            for season in list(row.seasons):
                season.show = other
        session.delete(row)
    session.commit()
    return target


def fill_details(session: Session, row: Movie | Show, client: TMDBClient) -> None:
    """Copy TMDB's details (title, dates, overview, runtime, genres, cast, images) onto `row`."""
    if isinstance(row, Movie):
        data = client.movie(row.tmdb_id)
        row.title = data.get("title") or row.title
        row.original_title = data.get("original_title")
        row.release_date = data.get("release_date") or None
        row.runtime_min = data.get("runtime") or None
        date = row.release_date
    else:
        data = client.tv(row.tmdb_id)
        row.title = data.get("name") or row.title
        row.original_title = data.get("original_name")
        row.first_air_date = data.get("first_air_date") or None
        date = row.first_air_date
    row.year = int(date[:4]) if date and date[:4].isdigit() else row.year
    row.overview = data.get("overview") or row.overview
    row.genres = [_genre(session, g["name"]) for g in data.get("genres") or [] if g.get("name")]
    row.cast = [{"name": c.get("name"), "character": c.get("character")}
                for c in ((data.get("credits") or {}).get("cast") or [])[:CAST_LIMIT]]
    row.poster = images.save_tmdb_image(client, data.get("poster_path"), "w500") or row.poster
    row.backdrop = images.save_tmdb_image(client, data.get("backdrop_path"), "w1280") or row.backdrop


def _genre(session: Session, name: str) -> Genre:
    genre = session.scalar(select(Genre).where(Genre.name == name))
    if genre is None:
        genre = Genre(name=name)
        session.add(genre)
        session.flush()
    return genre


def _season(session: Session, show: Show, number: int, client: TMDBClient | None) -> Season:
    session.flush()
    season = session.scalar(select(Season).where(Season.show_id == show.id, Season.number == number))
    if season is not None:
        return season
    season = Season(show=show, number=number)
    session.add(season)
    data = _tmdb_season(show, number, client)
    season.title, season.overview = data.get("name"), data.get("overview") or None
    return season


def _tmdb_season(show: Show, number: int, client: TMDBClient | None) -> dict:
    """TMDB's season details (from the client's disk cache after the first time), or {}."""
    if client is None or not show.tmdb_id:
        return {}
    try:
        return client.season(show.tmdb_id, number)
    except TMDBError as exc:
        if exc.status != 404:
            raise
        return {}


def _tmdb_episodes(show: Show, number: int, client: TMDBClient | None) -> dict[int, dict]:
    """{episode number: TMDB's episode entry} for one season of a matched show."""
    return {e["episode_number"]: e for e in _tmdb_season(show, number, client).get("episodes") or []
            if e.get("episode_number") is not None}


def _episode(session: Session, season: Season, number: int) -> Episode:
    session.flush()
    episode = session.scalar(select(Episode).where(Episode.season_id == season.id, Episode.number == number))
    if episode is None:
        episode = Episode(season=season, number=number)
        session.add(episode)
        session.flush()
    return episode
