"""The image cache (I/O edge): stand-in posters, a frame grabbed with ffmpeg for a title without a TMDB poster, made on first
request into the images folder (`LibrarySettings.images_dir`), where `TMDBClient.save_image` keeps TMDB's."""
from __future__ import annotations

import hashlib
import os
import subprocess
import uuid

from .paths import resolves_inside

#: Where in a video the stand-in frame is taken: 10 % in, past most opening black (our choice).
FRAME_AT = 0.10
FRAME_WIDTH_PX = 500  # TMDB's w500 poster width, so the grid looks even
#: ffmpeg's time limit for one frame (s): a seek and one decoded picture.
FRAME_TIMEOUT_S = 60


def frame_for(media, folder: str, ffmpeg: str = "ffmpeg") -> str | None:
    """The file name (in `folder`) of a JPEG frame of a video media file (a `models.MediaFile`), made
    once with `ffmpeg`; None for audio-only files, when ffmpeg fails, and when the file resolves
    outside its library folder (a symlink leading out: nothing is read, no frame made earlier is given)."""
    source = os.path.join(media.root, media.path)
    if not any(s.type == "video" and not s.attached_pic for s in media.streams):
        return None
    if not resolves_inside(source, media.root):
        return None
    name = f"frame-{media.id}-{media.fingerprint or 'x'}.jpg"
    target = os.path.join(folder, name)
    if os.path.exists(target):
        return name
    os.makedirs(folder, exist_ok=True)
    at_s = (media.duration_ms or 0) / 1000 * FRAME_AT
    part = f"{target}.{uuid.uuid4().hex}.part.jpg"  # concurrent requests each write their own
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-ss", f"{at_s:.3f}", "-i", source, "-frames:v", "1",
           "-vf", f"scale={FRAME_WIDTH_PX}:-2", "-q:v", "3", part]
    try:
        subprocess.run(cmd, capture_output=True, timeout=FRAME_TIMEOUT_S, check=True)
        os.replace(part, target)
    except (subprocess.SubprocessError, OSError):
        if os.path.exists(part):
            os.remove(part)
        return None
    return name


#: File name extensions of the cover pictures kept (`scanner.tagreader` gives only these MIME types).
_COVER_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}


def save_cover(data: bytes, mime: str, folder: str) -> str | None:
    """Keep an album cover (`data`: the picture's bytes, `mime` e.g. "image/jpeg") in `folder` once;
    returns its file name `cover-<sha256 of the bytes, 32 hex>.<ext>`, the same for the same picture
    whichever track or folder it came from (so it is written once). None for an empty picture, a type
    other than JPEG, PNG, WebP and GIF, or when the folder cannot be written (never raises OSError)."""
    extension = _COVER_EXTENSIONS.get(mime)
    if not data or extension is None:
        return None
    name = f"cover-{hashlib.sha256(data).hexdigest()[:32]}{extension}"
    target = os.path.join(folder, name)
    if os.path.exists(target):
        return name
    part = f"{target}.{uuid.uuid4().hex}.part"
    try:
        os.makedirs(folder, exist_ok=True)
        with open(part, "wb") as handle:
            handle.write(data)
        os.replace(part, target)
    except OSError:
        if os.path.exists(part):
            os.remove(part)
        return None
    return name
