"""TMDB enrichment of movies and shows: details, genres, cast, posters; an admin's fix match; and a
retry of titles a scan could not match because TMDB failed or had no key yet."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..exceptions import TMDBError
from ..models import Episode, Genre, Movie, Season, Show
from ..scanner.match import MatchDecision

if TYPE_CHECKING:
    from ..scanner.tmdb import TMDBClient

log = logging.getLogger("mediaserver.catalog")
#: Cast members kept per title (the top of TMDB's billing order).
CAST_LIMIT = 12
#: After this many TMDB failures in a row, a catalog pass stops asking TMDB (an outage must not turn
#: every file into a minute of retries); the titles are marked `error` and retried by the next scan.
BREAKER_FAILURES = 3
#: Statuses a later scan retries when it has a working client.
RETRY_STATUSES = ("off", "error")


class Breaker:
    """Wraps a TMDB client for one catalog pass; `.client` becomes None after BREAKER_FAILURES in a row."""

    def __init__(self, client: TMDBClient | None) -> None:
        self.client = client
        self.failures = 0
        self.had_client = client is not None

    def ok(self) -> None:
        self.failures = 0

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= BREAKER_FAILURES:
            log.warning("TMDB failed %d times in a row; not asking it again during this pass", self.failures)
            self.client = None

    @property
    def offline_status(self) -> str:
        """The status of a title made without TMDB: `error` when TMDB failed, `off` when no key."""
        return "error" if self.had_client else "off"


def candidates_json(decision: MatchDecision) -> list[dict]:
    """The scored candidates as stored: `[{"tmdb_id", "title", "year", "score"}]`, best first."""
    return [{"tmdb_id": c.tmdb_id, "title": c.title, "year": c.year, "score": round(s, 3)} for c, s in decision.scored]


def fill_details(session: Session, row: Movie | Show, client: TMDBClient) -> None:
    """Copy TMDB's details (title, dates, overview, runtime, genres, cast, images) onto `row`.

    Raises TMDBError when TMDB cannot be reached or does not know `row.tmdb_id`.
    """
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
    row.poster = client.save_image(data.get("poster_path"), "w500") or row.poster
    row.backdrop = client.save_image(data.get("backdrop_path"), "w1280") or row.backdrop
    if isinstance(row, Show):
        for season in row.seasons:
            fill_season(season, client)


def tmdb_season(show: Show, number: int, client: TMDBClient | None) -> dict:
    """TMDB's season details (from the client's disk cache after the first time), or {}."""
    if client is None or not show.tmdb_id:
        return {}
    try:
        return client.season(show.tmdb_id, number)
    except TMDBError as exc:
        if exc.status != 404:
            raise
        return {}


def fill_season(season: Season, client: TMDBClient | None) -> None:
    """Season title and overview, and the titles, overviews and air dates of its episodes, from TMDB."""
    data = tmdb_season(season.show, season.number, client)
    if not data:
        return
    season.title, season.overview = data.get("name") or season.title, data.get("overview") or season.overview
    by_number = {e.get("episode_number"): e for e in data.get("episodes") or []}
    for episode in season.episodes:
        fill_episode(episode, by_number.get(episode.number) or {})


def fill_episode(episode: Episode, info: dict) -> None:
    """Copy one TMDB episode entry (`name`, `overview`, `air_date`) onto `episode`."""
    episode.title = info.get("name") or episode.title
    episode.overview = info.get("overview") or episode.overview
    episode.air_date = info.get("air_date") or episode.air_date


def apply_match(session: Session, row: Movie | Show, tmdb_id: int, client: TMDBClient) -> Movie | Show:
    """An admin's choice: `row` becomes TMDB title `tmdb_id` (status `manual`), details refreshed.

    When another movie or show already holds that id, `row`'s files (a show: season by season,
    episode by episode) move to it and `row` goes; the guess that named `row` then leads to it.
    Returns the row that now holds the match. Raises TMDBError when TMDB does not know the id.
    """
    model = type(row)
    other = session.scalar(select(model).where(model.tmdb_id == tmdb_id, model.id != row.id))
    target = other or row
    target.tmdb_id, target.match_status, target.candidates = tmdb_id, "manual", None
    if other is not None:
        _merge(session, row, other)
    fill_details(session, target, client)
    session.commit()
    return target


def _merge(session: Session, row: Movie | Show, target: Movie | Show) -> None:
    if isinstance(row, Movie):
        for media in list(row.files):
            media.movie = target
    else:
        seasons = {s.number: s for s in target.seasons}
        for season in list(row.seasons):
            if season.number not in seasons:
                season.show = target
                continue
            episodes = {e.number: e for e in seasons[season.number].episodes}
            for episode in list(season.episodes):
                if episode.number in episodes:
                    for media in list(episode.files):
                        if media not in episodes[episode.number].files:
                            episodes[episode.number].files.append(media)
                else:
                    episode.season = seasons[season.number]
    session.flush()
    target.guess_key = target.guess_key or row.guess_key
    session.delete(row)
    session.flush()


def retry_unmatched(session: Session, client: TMDBClient) -> int:
    """Ask TMDB again for titles made without it (`off`: no key then; `error`: TMDB failed): a title
    whose TMDB id was known (from its name or NFO) gets its details, the others are searched.

    Returns how many were matched. A title that fails again is skipped (and retried by the next
    scan); after BREAKER_FAILURES failures in a row the pass stops (TMDB is still down).
    """
    matched = 0
    breaker = Breaker(client)
    for model in (Movie, Show):
        ids = session.scalars(select(model.id).where(model.match_status.in_(RETRY_STATUSES))).all()
        for row_id in ids:
            if breaker.client is None:
                return matched
            row = session.get(model, row_id)
            if row is None:  # merged into another title earlier in this pass
                continue
            try:
                _retry_one(session, row, client)
                session.commit()
                breaker.ok()
                matched += row.tmdb_id is not None
            except TMDBError as exc:
                session.rollback()
                breaker.failed()
                log.warning("TMDB retry for %r failed: %s", row.title, exc)
    return matched


def _retry_one(session: Session, row: Movie | Show, client: TMDBClient) -> None:
    if row.tmdb_id is not None:
        fill_details(session, row, client)
        row.match_status = "id"
        return
    decision = client.find_movie(row.title, row.year) if isinstance(row, Movie) else client.find_show(row.title, row.year)
    if decision.best is None:
        row.match_status, row.candidates = "unmatched", candidates_json(decision)
        return
    model = type(row)
    holder = session.scalar(select(model).where(model.tmdb_id == decision.best.tmdb_id))
    status = holder.match_status if holder is not None else "matched"  # an admin's `manual` stays manual
    target = apply_match(session, row, decision.best.tmdb_id, client)
    target.match_status = status


def _genre(session: Session, name: str) -> Genre:
    genre = session.scalar(select(Genre).where(Genre.name == name))
    if genre is None:
        genre = Genre(name=name)
        session.add(genre)
        session.flush()
    return genre
