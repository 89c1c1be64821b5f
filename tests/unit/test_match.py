"""match.py: pure scoring, no fixtures (candidates mirror tests/tmdb_data, real TMDB ids)."""
from __future__ import annotations

import pytest

from mediaserver.scanner.match import MATCH_THRESHOLD, Candidate, choose, score, title_similarity
from mediaserver.text import normalize_title

ROBOCOP_1987 = Candidate(5548, "movie", "RoboCop", "RoboCop", 1987, popularity=31.5)
ROBOCOP_2014 = Candidate(97020, "movie", "RoboCop", "RoboCop", 2014, popularity=34.2)
AMELIE = Candidate(194, "movie", "Amélie", "Le Fabuleux Destin d'Amélie Poulain", 2001, popularity=40.1)
ROCKY = Candidate(1366, "movie", "Rocky", "Rocky", 1976, popularity=45.0)
ROCKY_II = Candidate(1367, "movie", "Rocky II", "Rocky II", 1979, popularity=30.0)
ROCKY_III = Candidate(1371, "movie", "Rocky III", "Rocky III", 1982, popularity=28.0)
OFFICE_US = Candidate(2316, "tv", "The Office", "The Office", 2005, popularity=220.5, origin_country=("US",))
OFFICE_UK = Candidate(2996, "tv", "The Office", "The Office", 2001, popularity=40.2, origin_country=("GB",))
LOOKALIKES = [
    Candidate(9000001, "movie", "Zzyzx", "Zzyzx", 2006, popularity=1.2),
    Candidate(9000003, "movie", "The Quorum", "The Quorum", 2019, popularity=0.6),
    Candidate(9000002, "movie", "Quarterback Blues", "Quarterback Blues", 2011, popularity=0.8),
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The Matrix", "matrix"),
        ("Amélie", "amelie"),
        ("Le Fabuleux Destin d'Amélie Poulain", "fabuleux destin d amelie poulain"),
        ("L'Auberge espagnole", "auberge espagnole"),
        ("Les Misérables", "miserables"),
        ("Das Boot", "boot"),
        ("El Laberinto del Fauno", "laberinto del fauno"),
        ("An American Werewolf in London", "american werewolf in london"),
        ("A Beautiful Mind", "beautiful mind"),
        ("The", "the"),  # a lone article is the title itself
        ("Rocky II", "rocky 2"),
        ("Star Wars: Episode IV – A New Hope", "star wars episode 4 a new hope"),
        ("Fast & Furious", "fast and furious"),
        ("  WALL·E!!  ", "wall e"),
        ("Mission: Impossible", "mission impossible"),
        ("I, Robot", "i robot"),  # "I" is not turned into 1
        ("Pokémon: The First Movie", "pokemon the first movie"),  # only a leading article goes
    ],
)
def test_normalize_title(raw, expected):
    assert normalize_title(raw) == expected


def test_title_similarity():
    assert title_similarity("Rocky II", "Rocky 2") == 1.0
    assert title_similarity("Amelie", "Amélie") == 1.0
    assert title_similarity("the office", "The Office") == 1.0
    assert title_similarity("", "Rocky") == 0.0
    assert 0.0 < title_similarity("Rocky", "Rocky III") < 1.0
    assert title_similarity("Zzyzx Quorblat", "Zzyzx") < 0.6


def test_score_year_penalties_and_country_bonus():
    exact = score("RoboCop", 1987, ROBOCOP_1987)
    off_by_one = score("RoboCop", 1988, ROBOCOP_1987)
    unknown = score("RoboCop", None, ROBOCOP_1987)
    far = score("RoboCop", 1987, ROBOCOP_2014)
    assert exact == 1.0
    assert far < MATCH_THRESHOLD <= off_by_one < unknown < exact
    assert score("The Office", None, OFFICE_UK, "gb") > score("The Office", None, OFFICE_UK)
    assert score("The Office", None, OFFICE_UK, "US") == score("The Office", None, OFFICE_UK)
    assert 0.0 <= score("Zzyzx Quorblat", 1999, LOOKALIKES[2]) <= 1.0


@pytest.mark.parametrize(("year", "expected"), [(1987, ROBOCOP_1987), (2014, ROBOCOP_2014)])
def test_robocop_decided_by_year_in_either_order(year, expected):
    for candidates in ([ROBOCOP_2014, ROBOCOP_1987], [ROBOCOP_1987, ROBOCOP_2014]):
        decision = choose("RoboCop", year, candidates)
        assert decision.best == expected
        assert decision.scored[0] == (expected, 1.0)
        assert decision.scored[1][1] < MATCH_THRESHOLD


def test_robocop_off_by_one_year_still_matches():
    assert choose("RoboCop", 2013, [ROBOCOP_1987, ROBOCOP_2014]).best == ROBOCOP_2014


def test_amelie_without_accent_and_by_original_title():
    assert choose("Amelie", 2001, [AMELIE]).best == AMELIE
    assert choose("Le fabuleux destin d'Amelie Poulain", None, [AMELIE]).best == AMELIE


@pytest.mark.parametrize("query", ["Rocky II", "Rocky 2", "rocky ii"])
def test_rocky_ii_equals_rocky_2(query):
    decision = choose(query, 1979, [ROCKY, ROCKY_III, ROCKY_II])
    assert decision.best == ROCKY_II
    assert decision.scored[0] == (ROCKY_II, 1.0)


def test_the_office_by_year():
    assert choose("The Office", 2001, [OFFICE_US, OFFICE_UK]).best == OFFICE_UK
    assert choose("The Office", 2005, [OFFICE_UK, OFFICE_US]).best == OFFICE_US


def test_the_office_by_country():
    assert choose("The Office", None, [OFFICE_US, OFFICE_UK], country="GB").best == OFFICE_UK
    assert choose("The Office", None, [OFFICE_UK, OFFICE_US], country="US").best == OFFICE_US


def test_tie_broken_by_popularity():
    decision = choose("The Office", None, [OFFICE_UK, OFFICE_US])
    assert decision.scored[0][1] == decision.scored[1][1]
    assert decision.best == OFFICE_US  # 220.5 > 40.2


def test_made_up_title_stays_unmatched_with_candidates():
    decision = choose("Zzyzx Quorblat", 2021, LOOKALIKES)
    assert decision.best is None
    assert len(decision.scored) == 3
    assert all(s < MATCH_THRESHOLD for _, s in decision.scored)
    assert [s for _, s in decision.scored] == sorted((s for _, s in decision.scored), reverse=True)


def test_scored_keeps_at_most_five_and_empty_is_unmatched():
    many = [Candidate(i, "movie", f"Rocky {n}", None, 1980 + i) for i, n in enumerate("II III IV V VI VII".split())]
    assert len(choose("Rocky", None, many).scored) == 5
    assert choose("Rocky", None, []) == choose("Rocky", None, [], threshold=0.0)
    assert choose("Rocky", None, []).best is None


def test_threshold_parameter():
    assert choose("Zzyzx Quorblat", None, LOOKALIKES, threshold=0.3).best == LOOKALIKES[0]
