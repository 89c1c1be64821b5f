"""The edge between the catalog's rows and the pure planning: a `models.MediaFile` (its streams and
sidecar subtitle rows, loaded here) turned into `plan.MediaFacts`, which `plan`, `decision` and
`ladder` read without touching the database."""
from __future__ import annotations

import os

from ..models import MediaFile, Stream
from .decision import StreamFacts
from .plan import MediaFacts, SidecarFacts


def stream_facts(stream: Stream) -> StreamFacts:
    """A stored stream as planning sees it (same fields and units)."""
    return StreamFacts(index=stream.index, type=stream.type, codec=stream.codec, profile=stream.profile,
                       level=stream.level, pix_fmt=stream.pix_fmt, field_order=stream.field_order,
                       color_transfer=stream.color_transfer, sample_aspect_ratio=stream.sample_aspect_ratio,
                       rotation=stream.rotation, width=stream.width, height=stream.height,
                       attached_pic=stream.attached_pic, fps=stream.fps, is_vfr=stream.is_vfr,
                       bit_rate=stream.bit_rate, duration_ms=stream.duration_ms, language=stream.language,
                       title=stream.title, is_default=stream.is_default, forced=stream.forced)


def media_facts(media: MediaFile) -> MediaFacts:
    """`media`'s facts: its absolute source path, container, duration (ms), streams in ffprobe's order
    and sidecar subtitles (paths made absolute under its library root)."""
    return MediaFacts(
        source=os.path.join(media.root, media.path), container=media.container, duration_ms=media.duration_ms,
        streams=tuple(stream_facts(s) for s in media.streams),
        sidecars=tuple(SidecarFacts(id=sub.id, path=os.path.join(media.root, sub.path), language=sub.language,
                                    forced=sub.forced, sdh=sub.sdh, format=sub.format) for sub in media.subtitles))
