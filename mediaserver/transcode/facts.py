"""The edge between the catalog's rows and the pure planning: a `models.MediaFile` (its streams and
sidecar subtitle rows, loaded here) turned into `plan.MediaFacts`, which `plan`, `decision` and
`ladder` read without touching the database."""
from __future__ import annotations

import os
from dataclasses import fields

from ..models import MediaFile, Stream
from ..paths import resolves_inside
from ..streams import StreamFacts
from .plan import MediaFacts, SidecarFacts


#: The fields a stored stream shares with StreamFacts (all of them: `models.Stream` holds what ffprobe gave).
_FIELDS = tuple(f.name for f in fields(StreamFacts))


def stream_facts(stream: Stream) -> StreamFacts:
    """A stored stream as planning sees it (same fields and units)."""
    return StreamFacts(**{name: getattr(stream, name) for name in _FIELDS})


def media_facts(media: MediaFile) -> MediaFacts:
    """`media`'s facts: its absolute source path, container, duration (ms), streams in ffprobe's order
    and sidecar subtitles (paths made absolute under its library root). A sidecar that has become a
    symlink leading out of the library root since the scan is left out: no menu offers it, and neither
    a ladder nor `/media/.../subs/` reads it. (The source itself is checked by what reads it:
    `source_outside`.)"""
    sidecars = [(sub, os.path.join(media.root, sub.path)) for sub in media.subtitles]
    return MediaFacts(
        source=os.path.join(media.root, media.path), container=media.container, duration_ms=media.duration_ms,
        streams=tuple(stream_facts(s) for s in media.streams),
        sidecars=tuple(SidecarFacts(id=sub.id, path=path, language=sub.language, forced=sub.forced, sdh=sub.sdh,
                                    format=sub.format)
                       for sub, path in sidecars if resolves_inside(path, media.root)))


def source_outside(media: MediaFile) -> bool:
    """Whether `media`'s file now resolves outside its library root (a symlink leading out, made after
    the scan that found it readable): then nothing is read from it, and no ladder of it is served."""
    return not resolves_inside(os.path.join(media.root, media.path), media.root)
