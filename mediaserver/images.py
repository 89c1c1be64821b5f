"""Posters and backdrops kept in `<DATA_DIR>/images/`: downloaded once from TMDB, never hotlinked;
a frame grabbed with ffmpeg stands in for a title without a poster (made on first request)."""
from __future__ import annotations

import os
import re
import subprocess
import uuid

from flask import current_app

#: Where in a video the stand-in frame is taken: 10 % in, past most opening black (our choice).
FRAME_AT = 0.10
FRAME_WIDTH_PX = 500  # TMDB's w500 poster width, so the grid looks even


def images_dir() -> str:
    path = os.path.join(current_app.config["DATA_DIR"], "images")
    os.makedirs(path, exist_ok=True)
    return path


def save_tmdb_image(client, tmdb_path: str | None, size: str) -> str | None:
    """Download TMDB image `tmdb_path` ("/abc.jpg") at `size` once; returns the stored file name.

    None when there is no image or the download fails (the title then keeps its old image).
    """
    if not tmdb_path:
        return None
    name = f"tmdb-{size}-{re.sub(r'[^A-Za-z0-9._-]', '', tmdb_path.lstrip('/'))}"
    target = os.path.join(images_dir(), name)
    if not os.path.exists(target):
        try:
            data = client.download(client.image_url(tmdb_path, size))
        except Exception as exc:  # noqa: BLE001 - a missing poster must never fail a scan
            current_app.logger.warning("poster %s not downloaded: %s", tmdb_path, exc)
            return None
        tmp = target + ".part"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    return name


def frame_for(media) -> str | None:
    """A JPEG frame of a video media file (made once with ffmpeg); None for audio or on failure."""
    if not any(s.type == "video" and not s.attached_pic for s in media.streams):
        return None
    name = f"frame-{media.id}-{media.fingerprint or 'x'}.jpg"
    target = os.path.join(images_dir(), name)
    if os.path.exists(target):
        return name
    at_s = (media.duration_ms or 0) / 1000 * FRAME_AT
    part = f"{target}.{uuid.uuid4().hex}.part.jpg"  # concurrent requests each write their own
    cmd = [current_app.config["FFMPEG"], "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-ss", f"{at_s:.3f}", "-i", os.path.join(media.root, media.path), "-frames:v", "1",
           "-vf", f"scale={FRAME_WIDTH_PX}:-2", "-q:v", "3", part]
    try:
        subprocess.run(cmd, capture_output=True, timeout=60, check=True)
        os.replace(part, target)
    except (subprocess.SubprocessError, OSError):
        if os.path.exists(part):
            os.remove(part)
        return None
    return name
