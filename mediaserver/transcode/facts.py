"""The edge between the catalog's rows and the pure planning: a `models.MediaFile` (its streams and
sidecar subtitle rows, loaded here) turned into `plan.MediaFacts`, which `plan`, `decision` and
`ladder` read without touching the database."""
from __future__ import annotations

import os
from dataclasses import fields

from ..models import MediaFile, Stream
from ..streams import StreamFacts
from .plan import MediaFacts, SidecarFacts


#: The fields a stored stream shares with StreamFacts (all of them: `models.Stream` holds what ffprobe gave).
_FIELDS = tuple(f.name for f in fields(StreamFacts))


def stream_facts(stream: Stream) -> StreamFacts:
    """A stored stream as planning sees it (same fields and units)."""
    return StreamFacts(**{name: getattr(stream, name) for name in _FIELDS})


def media_facts(media: MediaFile) -> MediaFacts:
    """`media`'s facts: its absolute source path, container, duration (ms), streams in ffprobe's order
    and sidecar subtitles (paths made absolute under its library root)."""
    return MediaFacts(
        source=os.path.join(media.root, media.path), container=media.container, duration_ms=media.duration_ms,
        streams=tuple(stream_facts(s) for s in media.streams),
        sidecars=tuple(SidecarFacts(id=sub.id, path=os.path.join(media.root, sub.path), language=sub.language,
                                    forced=sub.forced, sdh=sub.sdh, format=sub.format) for sub in media.subtitles))
