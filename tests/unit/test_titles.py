"""Display titles: from file names (until the catalog matches titles), and of music tracks."""
from types import SimpleNamespace

from mediaserver.titles import title_from_path, title_of


def test_titles_come_from_file_names():
    assert title_from_path("Movies/Big_Buck.Bunny.mp4") == "Big Buck Bunny"
    assert title_from_path("Test Pattern (2026).mp4") == "Test Pattern (2026)"
    assert title_from_path("Movies/Film") == "Film"  # no extension


def test_a_track_is_called_by_its_artists_and_title():
    artists = [SimpleNamespace(name="Solar Band"), SimpleNamespace(name="Guest Star")]
    media = SimpleNamespace(track=SimpleNamespace(title="Noon", artists=artists), movie=None, episodes=[],
                            path="Solar Band/Night Album/02 Noon.mp3")
    assert title_of(media) == "Solar Band, Guest Star – Noon"
    media.track.artists = []
    assert title_of(media) == "Noon"
    media.track = None
    assert title_of(media) == "02 Noon"
