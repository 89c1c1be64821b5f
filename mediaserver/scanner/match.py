"""Title-match scoring: a title guess (+ year, country) against TMDB search candidates (pure).

No I/O, no Flask, no database: `tmdb.py` fetches candidates and calls `choose`. Scores are floats
in 0..1; `choose` accepts the best one only when it reaches `MATCH_THRESHOLD`.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..text import normalize_title

# Our own calibration on the fixture titles in tests/tmdb_data (checked in tests/unit/test_match.py):
# an exact title with the exact year scores 1.0, +-1 year 0.92, unknown year 0.95, a wrong year
# (2+ off) at most 0.70 (RoboCop 1987 vs 2014 is rejected, not guessed); a made-up title against
# loosely similar real ones scores <= 0.6. 0.75 sits between the wrong-year and the +-1-year cases.
MATCH_THRESHOLD = 0.75

# Year penalties (subtracted from the 0..1 title similarity); our own choice, same calibration.
YEAR_OFF_BY_ONE_PENALTY = 0.08  # release dates differ by country/festival: a file's year is often +-1
YEAR_FAR_PENALTY = 0.30  # 2+ years apart: a remake or another film of the same name
YEAR_UNKNOWN_PENALTY = 0.05  # no year on one side: slight, so a dated exact match wins over it
COUNTRY_BONUS = 0.05  # the show's origin country matches the hint (The Office GB vs US)
MAX_SCORED = 5  # candidates kept in MatchDecision.scored

@dataclass(frozen=True)
class Candidate:
    """One TMDB search result: a movie (`title`) or a tv show (`name`); year from the first date."""

    tmdb_id: int
    kind: str  # "movie" or "tv"
    title: str  # title (movie) / name (tv)
    original_title: str | None
    year: int | None  # from release_date / first_air_date
    overview: str | None = None
    poster_path: str | None = None  # e.g. "/abc.jpg"; TMDBClient.image_url turns it into a URL
    popularity: float = 0.0
    origin_country: tuple[str, ...] = ()  # ISO 3166-1 codes, tv only in TMDB's search results


@dataclass(frozen=True)
class MatchDecision:
    """`best`: the accepted candidate or None; `scored`: at most 5 (candidate, score), best first."""

    best: Candidate | None
    scored: tuple[tuple[Candidate, float], ...]


def title_similarity(a: str, b: str) -> float:
    """Similarity 0..1 of two titles after `normalize_title` (difflib ratio; 0.0 if either is empty)."""
    na, nb = normalize_title(a), normalize_title(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    return difflib.SequenceMatcher(None, na, nb).ratio()


def _year_penalty(year: int | None, candidate_year: int | None) -> float:
    if year is None or candidate_year is None:
        return YEAR_UNKNOWN_PENALTY
    gap = abs(year - candidate_year)
    if gap == 0:
        return 0.0
    return YEAR_OFF_BY_ONE_PENALTY if gap == 1 else YEAR_FAR_PENALTY


def score(title: str, year: int | None, candidate: Candidate, country: str | None = None) -> float:
    """Score 0..1 of `candidate` for a title guess.

    The best similarity to candidate.title or original_title, minus a year penalty (exact: 0,
    +-1: YEAR_OFF_BY_ONE_PENALTY, further: YEAR_FAR_PENALTY, unknown on either side:
    YEAR_UNKNOWN_PENALTY), plus COUNTRY_BONUS when `country` (ISO 3166-1, any case) is in
    candidate.origin_country; clamped to 0..1 and rounded to 6 places so ties compare equal.
    """
    similarity = title_similarity(title, candidate.title)
    if candidate.original_title:
        similarity = max(similarity, title_similarity(title, candidate.original_title))
    value = similarity - _year_penalty(year, candidate.year)
    if country and country.upper() in {c.upper() for c in candidate.origin_country}:
        value += COUNTRY_BONUS
    return round(min(1.0, max(0.0, value)), 6)


def choose(
    title: str,
    year: int | None,
    candidates: list[Candidate],
    country: str | None = None,
    threshold: float = MATCH_THRESHOLD,
) -> MatchDecision:
    """Score every candidate and pick the best one (ties: higher TMDB popularity wins).

    The order of `candidates` (TMDB's ranking) is ignored. When the best score is below
    `threshold` the decision is unmatched (best=None) but `scored` still holds the top 5,
    so a user can pick one by hand.
    """
    ranked = sorted(
        ((c, score(title, year, c, country)) for c in candidates),
        key=lambda pair: (-pair[1], -pair[0].popularity, pair[0].tmdb_id),
    )
    scored = tuple(ranked[:MAX_SCORED])
    best = scored[0][0] if scored and scored[0][1] >= threshold else None
    return MatchDecision(best=best, scored=scored)
