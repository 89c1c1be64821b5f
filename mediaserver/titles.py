"""Display titles (pure): what lists, the player and watch parties call a media file. Reads only the
attributes of the objects it is given (`models.MediaFile` and its movie or episodes)."""
from __future__ import annotations


def title_from_path(path: str) -> str:
    """A display title from the file name (until the catalog knows better): "a/Big_Buck.Bunny.mp4" -> "Big Buck Bunny"."""
    name = path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] or name
    return " ".join(stem.replace("_", " ").replace(".", " ").split()) or name


def title_of(media) -> str:
    """A media file's display title: its movie's ("Title (1999)"), "Show S01E02 Title" for an episode,
    "Artist, Artist – Title" for a music track, else from the file name."""
    track = getattr(media, "track", None)
    if track is not None:
        artists = ", ".join(a.name for a in track.artists)
        return f"{artists} – {track.title}" if artists else track.title
    if media.movie is not None:
        return media.movie.title + (f" ({media.movie.year})" if media.movie.year else "")
    if media.episodes:
        ep = media.episodes[0]
        season = ep.season
        label = f"{season.show.title} S{season.number:02d}E{ep.number:02d}" if season is not None else ""
        return " ".join(p for p in (label, ep.title or "") if p) or title_from_path(media.path)
    return title_from_path(media.path)
