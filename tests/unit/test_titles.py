"""Display titles from file names (until the catalog matches titles)."""
from mediaserver.titles import title_from_path


def test_titles_come_from_file_names():
    assert title_from_path("Movies/Big_Buck.Bunny.mp4") == "Big Buck Bunny"
    assert title_from_path("Test Pattern (2026).mp4") == "Test Pattern (2026)"
    assert title_from_path("Movies/Film") == "Film"  # no extension
