"""A small tagged music library the music tests build (ffmpeg tones tagged with mutagen: an embedded and a
folder cover, two discs, a multi-value artist, a compilation, untagged files placed by folder) and the app
scanning it."""
import subprocess

import pytest
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TIT2, TPE1, TPE2, TPOS, TRCK
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis

from mediaserver import create_app
from mediaserver.scanner.walk import MEDIA_EXTENSIONS
from tests.helpers import MUSIC_TAGS, app_config, link_file

CODECS = {".flac": ["-c:a", "flac"], ".mp3": ["-c:a", "libmp3lame"], ".m4a": ["-c:a", "aac"],
          ".ogg": ["-c:a", "libvorbis"]}


def link_music_tags(root):
    """Link every file of ../shared/music-tags with a media extension into `root` (made): 92 files."""
    root.mkdir(parents=True)
    for path in MUSIC_TAGS.iterdir():
        if path.is_file() and path.suffix.lower() in MEDIA_EXTENSIONS:
            link_file(path, root / path.name)
    return root


def tone(path, hz, seconds=1, codec=None):
    """A sine tone of `hz` Hz lasting `seconds` s at `path`, encoded as its suffix says (or `codec`, ffmpeg's
    arguments: ["-c:a", "alac"] for an ALAC .m4a)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"sine=f={hz}:d={seconds}",
                    *(codec or CODECS[path.suffix]), str(path)], check=True)
    return path


def jpeg(path, colour):
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"color=c={colour}:s=16x16",
                    "-frames:v", "1", str(path)], check=True)
    return path.read_bytes()


def tag_vorbis(audio, cover=None, **tags):
    for key, value in tags.items():
        audio[key] = value if isinstance(value, list) else [value]
    if cover is not None:
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/jpeg", cover
        audio.add_picture(picture)
    audio.save()


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "library"
    cover = jpeg(tmp_path / "embedded.jpg", "red")
    night = root / "Solar Band" / "Night Album"
    tag_vorbis(FLAC(tone(night / "Disc 1" / "01 Dawn.flac", 440)), cover=cover, title="Dawn", artist="Solar Band",
               albumartist="Solar Band", album="Night Album", tracknumber="1/2", discnumber="1/2", date="2004-05-06")
    id3 = ID3()
    for frame in (TIT2(encoding=3, text="Noon"), TPE1(encoding=3, text=["Solar Band", "Guest Star"]),
                  TPE2(encoding=3, text="Solar Band"), TALB(encoding=3, text="Night Album"),
                  TRCK(encoding=3, text="2/2"), TPOS(encoding=3, text="1/2"),
                  APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=cover)):
        id3.add(frame)
    id3.save(tone(night / "Disc 1" / "02 Noon.mp3", 480))
    m4a = MP4(tone(night / "Disc 2" / "03 Dusk.m4a", 520))
    m4a.update({"\xa9nam": ["Dusk"], "\xa9ART": ["Solar Band"], "aART": ["Solar Band"], "\xa9alb": ["Night Album"],
                "trkn": [(3, 11)], "disk": [(2, 2)], "covr": [MP4Cover(cover, imageformat=MP4Cover.FORMAT_JPEG)]})
    m4a.save()
    tag_vorbis(OggVorbis(tone(root / "Mixes" / "Summer" / "01 One.ogg", 560)), title="One", artist="Xeno",
               album="Summer Mix", tracknumber="1", compilation="1")
    tag_vorbis(FLAC(tone(root / "Mixes" / "Summer" / "02 Two.flac", 600)), title="Two", artist="Yara",
               album="Summer Mix", tracknumber="2", compilation="1")
    tone(root / "Folk Duo" / "Tagless" / "01 Quiet Song.flac", 640)
    jpeg(root / "Folk Duo" / "Tagless" / "cover.jpg", "blue")
    return root


@pytest.fixture
def music_app(tmp_path, library, redis_db):
    return create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)]))
