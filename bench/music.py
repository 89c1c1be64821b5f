"""Music scan benchmark (issue 14): the first scan of a tagged music library against a sequential
bare-ffprobe loop over the same files, and what the scan's processes held at most.

    python bench/music.py [--files 2000] [--workers N]

Builds `--files` tagged audio files (in a temporary folder beside ../shared): a few 4 s ffmpeg tones
(FLAC, MP3, M4A/AAC, Ogg Vorbis, Opus), copied and tagged with mutagen as albums of 10 tracks by 50
artists (every third track with two artists, every fifth album a compilation, every fourth album with
an embedded front cover, the others with a cover.jpg in the folder), so every file has its own tags,
its own bytes and its own fingerprint. It prints, from one run:

1. the project's first scan (`flask scan`'s whole path, `run_library_scan`: walk, fingerprint, the one
   ffprobe and the tag reading in the probe pool, the rows, covers into the image cache), in s;
2. a sequential loop running bare `ffprobe -show_format -show_streams` once per file, in s, and the
   ratio of (1) to it (target: <= 0.6, as for video: bench/scan.py);
3. the peak resident memory of the scanning process and of its largest child (the pool's
   processes), in MB (target: under 500 MB: issue 14, "Bad files");
4. an unchanged rescan, in s (target: no tag read, no ffprobe: it is as fast as a video rescan).

The gap between two album tracks in Chromium is measured by tests/e2e/test_music.py (it prints it).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scan import full_scan, make_app  # noqa: E402

SHARED = ROOT.parent / "shared"
SECONDS = 4
#: suffix -> the ffmpeg encoder arguments of the source tone
FORMATS = {".flac": ["-c:a", "flac"], ".mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
           ".m4a": ["-c:a", "aac", "-b:a", "160k"], ".ogg": ["-c:a", "libvorbis"], ".opus": ["-c:a", "libopus"]}
TRACKS_PER_ALBUM = 10
ARTISTS = 50


def sources(folder: Path) -> dict[str, Path]:
    """One SECONDS-long stereo tone per format, and a small JPEG cover."""
    folder.mkdir(parents=True)
    made = {}
    for suffix, codec in FORMATS.items():
        path = folder / f"tone{suffix}"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                        f"sine=f=440:d={SECONDS}", "-ac", "2", *codec, str(path)], check=True)
        made[suffix] = path
    cover = folder / "cover.jpg"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=s=500x500",
                    "-frames:v", "1", str(cover)], check=True)
    made["cover"] = cover
    return made


def build_library(folder: Path, count: int, made: dict[str, Path]) -> list[Path]:
    """`count` tagged files in `Artist/Album/NN Title.ext` folders (see the module's docstring)."""
    from mutagen import File

    cover = made["cover"].read_bytes()
    suffixes = list(FORMATS)
    files = []
    for i in range(count):
        album_no, number = divmod(i, TRACKS_PER_ALBUM)
        artist = f"Artist {album_no % ARTISTS:02d}"
        compilation = album_no % 5 == 4
        suffix = suffixes[album_no % len(suffixes)]
        album_dir = folder / ("Compilations" if compilation else artist) / f"Album {album_no:04d}"
        album_dir.mkdir(parents=True, exist_ok=True)
        target = album_dir / f"{number + 1:02d} Song {i:05d}{suffix}"
        shutil.copyfile(made[suffix], target)
        audio = File(target, easy=True)
        performers = [artist, f"Guest {i % 97:02d}"] if i % 3 == 0 else [artist]
        audio.update({"title": f"Song {i:05d}", "artist": performers, "album": f"Album {album_no:04d}",
                      "tracknumber": f"{number + 1}/{TRACKS_PER_ALBUM}", "date": str(1970 + album_no % 50),
                      "genre": ["Rock", "Pop"][album_no % 2]})
        if not compilation:
            audio["albumartist"] = artist
        audio.save()
        if compilation:
            _mark_compilation(target)
        if album_no % 4 == 0:
            _embed_cover(target, cover)
        elif number == 0:
            (album_dir / "cover.jpg").write_bytes(cover)
        files.append(target)
    return files


def _mark_compilation(path: Path) -> None:
    from mutagen import File

    audio = File(path)
    if path.suffix == ".mp3":
        from mutagen.id3 import TCMP
        audio.tags.add(TCMP(encoding=3, text="1"))
    elif path.suffix == ".m4a":
        audio["cpil"] = True
    else:
        audio["compilation"] = ["1"]
    audio.save()


def _embed_cover(path: Path, data: bytes) -> None:
    """The picture as the format's front cover: FLAC picture block, ID3 APIC, MP4 covr, Ogg
    METADATA_BLOCK_PICTURE."""
    import base64

    from mutagen import File
    from mutagen.flac import Picture

    audio = File(path)
    if path.suffix == ".mp3":
        from mutagen.id3 import APIC
        audio.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=data))
    elif path.suffix == ".m4a":
        from mutagen.mp4 import MP4Cover
        audio["covr"] = [MP4Cover(data, imageformat=MP4Cover.FORMAT_JPEG)]
    else:
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/jpeg", data
        if path.suffix == ".flac":
            audio.add_picture(picture)
        else:
            audio["metadata_block_picture"] = [base64.b64encode(picture.write()).decode("ascii")]
    audio.save()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="probe pool size (default: CPUs)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-music-", dir=SHARED.parent))
    try:
        began = time.perf_counter()
        files = build_library(base / "library", args.files, sources(base / "sources"))
        os.sync()  # the files reach the disk now, not during the timed scan
        print(f"library: {len(files)} tagged files in {args.files // TRACKS_PER_ALBUM} albums "
              f"(built in {time.perf_counter() - began:.1f} s), probe pool: {args.workers} workers, "
              f"{os.cpu_count()} CPUs")

        app = make_app(base / "a", "ffprobe", base / "library", args.workers)
        first_s, line, catalog_line = full_scan(app)
        print(f"1. project first scan:        {first_s:8.2f} s  ({line}; {catalog_line})")
        began = time.perf_counter()
        for path in files:
            subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                           capture_output=True, check=False)
        loop_s = time.perf_counter() - began
        print(f"2. sequential bare ffprobe:   {loop_s:8.2f} s  -> first scan / loop = {first_s / loop_s:.2f} "
              "(target <= 0.60)")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"3. peak memory: scanning process {own:.0f} MB, largest child {child:.0f} MB (target < 500 MB)")
        rescan_s, line, _ = full_scan(app)
        print(f"4. rescan, {len(files)} unchanged:  {rescan_s:8.2f} s  ({line})")
        with app.app_context():
            from sqlalchemy import func, select

            from mediaserver.db import get_db
            from mediaserver.models import Album, Artist, Track

            db = get_db()
            counts = [db.scalar(select(func.count()).select_from(m)) for m in (Track, Album, Artist)]
            covers = db.scalar(select(func.count()).select_from(Album).where(Album.cover_image.is_not(None)))
        print(f"   catalogue: {counts[0]} tracks, {counts[1]} albums ({covers} with a cover), {counts[2]} artists")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
