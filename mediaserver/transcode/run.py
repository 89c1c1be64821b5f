"""One ladder job's work (called by `execute.run` inside an RQ job):

1. read the source's keyframes (when its video can be copied) and convert its text subtitles;
2. run the one ffmpeg process, writing EVENT playlists into `<DATA_DIR>/hls/<media id>-<job id>-<attempt>/`;
3. as soon as every rendition has its first segment, write an estimated master playlist and record
   the folder on the job row: the title is playable while the encode goes on;
4. at the end, check every rendition covers its source stream, rewrite the media playlists as VOD
   and the master with measured bit rates (each file replaced atomically), mark the job succeeded.

A failure clears the row's folder before deleting it (withdrawn: nothing half-made stays served).
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time

from sqlalchemy.orm import Session

from ..config import TranscodeSettings
from ..exceptions import TranscodeError
from ..lifetime import die_with_parent
from ..models import MediaFile, TranscodeJob, utcnow
from ..paths import OUTSIDE_LIBRARY
from ..text import tool_message
from .command import LadderJob, build_command
from .decision import main_video
from .facts import media_facts, source_outside
from .measure import AAC_LC_CODECS, avc_codec_string, measure_rendition
from .plan import MediaFacts, Track, audio_tracks, decision_for, ladder_job_for, subtitle_tracks
from .playlist import Rendition, SubtitleRendition, event_to_vod, render_master, segment_count, subtitle_playlist
from .sources import extract_subtitles, keyframe_times, subtitle_cache_dir

log = logging.getLogger("mediaserver.transcode")

#: A rendition shorter than this share of its source stream (less 0.5 s for the last GOP) means
#: decoding stopped early: ffmpeg exits 0 on a truncated file. 95 % is our own margin for streams
#: whose container duration overstates the last frame's time.
MIN_COVERAGE = 0.95
#: Progress and the heartbeat are written to the database at most this often (s).
PROGRESS_INTERVAL_S = 1.0
SUBTITLE_DIR = "subs"


def build_ladder(session: Session, job: TranscodeJob, settings: TranscodeSettings, out: str) -> None:
    """Encode `job`'s media file into `out` (an empty folder named by `job.output_dir`-to-be), publish
    it live, then finish it, with `settings`' ffmpeg and ffprobe (WebVTT conversions cached under its
    data dir). Raises TranscodeError for undecodable input (not worth a retry), and with
    `paths.OUTSIDE_LIBRARY` before reading anything when the source now resolves outside its library
    folder (a symlink made since the scan); other exceptions (OSError, a timeout) may pass."""
    row = job.media_file
    if source_outside(row):
        raise TranscodeError(OUTSIDE_LIBRARY)
    media = media_facts(row)
    decision = decision_for(media)
    video = main_video(media.streams)
    times = None
    if video is not None and (decision.copy_video or decision.method == "direct"):
        times = keyframe_times(media.source, video.index, ffprobe=settings.ffprobe)
    try:
        ladder = ladder_job_for(media, settings.ffmpeg, times)
    except ValueError as exc:
        raise TranscodeError(str(exc)) from None
    subtitles = _subtitles(row, media, settings, out)
    folder = os.path.basename(out)
    tail = _encode(session, job, ladder, out, media.duration_ms,
                   on_ready=lambda: _publish_live(session, job, ladder, media, subtitles, out, folder))
    _finish(out, ladder, media, subtitles, tail)


def _subtitles(row: MediaFile, media: MediaFacts, settings: TranscodeSettings, out: str) -> list[SubtitleRendition]:
    """Convert the text subtitles (cached per file version) into `<out>/subs/` with their playlists."""
    tracks = [t for t in subtitle_tracks(media) if t.convertible]
    if not tracks:
        return []
    cache = subtitle_cache_dir(settings.data_dir, row.id, f"{row.size}-{int(row.mtime)}")
    written = extract_subtitles(tracks, media.source, cache, ffmpeg=settings.ffmpeg)
    os.makedirs(os.path.join(out, SUBTITLE_DIR), exist_ok=True)
    renditions = []
    for track in tracks:
        if track.key not in written:
            log.warning("subtitle %s of %s could not be converted; left out", track.key, media.source)
            continue
        shutil.copyfile(written[track.key], os.path.join(out, SUBTITLE_DIR, f"{track.key}.vtt"))
        duration_s = (media.duration_ms or 1000) / 1000
        with open(os.path.join(out, SUBTITLE_DIR, f"{track.key}.m3u8"), "w") as fh:
            fh.write(subtitle_playlist(f"{track.key}.vtt", duration_s))
        renditions.append(SubtitleRendition(f"{SUBTITLE_DIR}/{track.key}.m3u8", track.name, track.language,
                                            track.default, track.forced))
    return renditions


def _ready(out: str, ladder: LadderJob) -> bool:
    """Whether every rendition's playlist lists a segment and its init segment exists."""
    for folder in ladder.folders:
        try:
            with open(os.path.join(out, folder, "index.m3u8")) as fh:
                if segment_count(fh.read()) < 1 or not os.path.isfile(os.path.join(out, folder, "init.mp4")):
                    return False
        except OSError:
            return False
    return True


def _publish_live(session: Session, job: TranscodeJob, ladder: LadderJob, media: MediaFacts,
                  subtitles: list[SubtitleRendition], out: str, folder: str) -> bool:
    """Write the estimated master and point the job at `folder`; False while not every rendition has
    its first segment. Estimates: each rung's cap (the copied rung's source bit rate), 128 kb/s audio."""
    if not _ready(out, ladder):
        return False
    fps = next((s.fps for s in media.streams if s.index == ladder.video_index), None)
    video = [Rendition(f"{r.name}/index.m3u8", avc_codec_string(os.path.join(out, r.name, "init.mp4")),
                       r.max_bitrate_bps, r.max_bitrate_bps, 0.0, r.width, r.height, ladder.cfr_fps or fps)
             for r in ladder.rungs]
    audio = _audio_renditions(media, ladder, out, measured=False)
    _write_atomic(os.path.join(out, "master.m3u8"), render_master(video, audio, subtitles))
    job.output_dir, job.heartbeat_at = folder, utcnow()
    session.commit()
    log.info("transcode job %s playable (EVENT playlists) at %s", job.id, folder)
    return True


def _audio_renditions(media: MediaFacts, ladder: LadderJob, out: str, measured: bool) -> list[Rendition]:
    tracks: dict[int, Track] = {t.stream_index: t for t in audio_tracks(media)}
    renditions = []
    for audio in ladder.audios:
        track = tracks[audio.index]
        if measured:
            renditions.append(measure_rendition(out, audio.folder, name=track.name, language=track.language,
                                                default=track.default))
        else:
            renditions.append(Rendition(f"{audio.folder}/index.m3u8", AAC_LC_CODECS, 130_000, 128_000, 0.0,
                                        name=track.name, language=track.language, default=track.default))
    return renditions


def _encode(session: Session, job: TranscodeJob, ladder: LadderJob, out: str, duration_ms: int | None,
            on_ready) -> str:
    """Run the one ffmpeg process; progress (percent) from `-progress` `out_time_us` lines, and
    `on_ready()` tried on each until it returns True (the live publication).

    Returns ffmpeg's last log lines (warnings and errors; without the memory addresses of their
    prefixes, `text.tool_message`: they end up in the job's error). Raises TranscodeError on a non-zero exit,
    and OSError when ffmpeg was killed by a signal (worth a retry). ffmpeg is killed if the job dies
    here (RQ's timeout, or the worker killed outright: see `lifetime.die_with_parent`).
    """
    for folder in ladder.folders:
        os.makedirs(os.path.join(out, folder), exist_ok=True)
    log_path = os.path.join(out, "ffmpeg.log")
    last_write, published = time.monotonic(), False
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(build_command(ladder), cwd=out, stdout=subprocess.PIPE, stderr=log_file,
                                preexec_fn=die_with_parent)
        try:
            for raw in proc.stdout:
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                if key != "out_time_us":
                    continue
                if not published:
                    published = on_ready()
                now = time.monotonic()
                if now - last_write < PROGRESS_INTERVAL_S:
                    continue
                if duration_ms and value.isdigit():
                    job.progress = min(99.0, round(int(value) / 10 / duration_ms, 1))
                job.heartbeat_at = utcnow()
                session.commit()
                last_write = now
            rc = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        tail = tool_message("\n".join(line.rstrip() for line in fh.readlines()[-8:]))
    os.remove(log_path)
    if rc < 0:
        raise OSError(f"ffmpeg was killed by signal {-rc}")
    if rc != 0:
        raise TranscodeError(f"ffmpeg exited with status {rc}: {tail}" if tail else f"ffmpeg exited with status {rc}")
    return tail


def _finish(out: str, ladder: LadderJob, media: MediaFacts, subtitles: list[SubtitleRendition],
            ffmpeg_log: str) -> None:
    """Check coverage, then VOD media playlists and the measured master. Raises TranscodeError (with
    ffmpeg's log lines) when a rendition is empty (0 s) or stops short of its source stream."""
    fps = ladder.cfr_fps or next((s.fps for s in media.streams if s.index == ladder.video_index), None)
    video = [measure_rendition(out, r.name, width=r.width, height=r.height, frame_rate=fps) for r in ladder.rungs]
    audio = _audio_renditions(media, ladder, out, measured=True)
    durations = {s.index: s.duration_ms for s in media.streams}
    checks = [(v, ladder.video_index) for v in video] + list(zip(audio, [a.index for a in ladder.audios]))
    for rendition, index in checks:
        if rendition.duration_s <= 0:  # e.g. a DSD file of a few ms that ffmpeg reads no sample from
            raise TranscodeError(f"decoding gave nothing to play ({rendition.uri} is empty); the source is "
                                 f"damaged or holds no audio. ffmpeg said:\n{ffmpeg_log}")
        duration_ms = durations.get(index) or media.duration_ms
        if duration_ms:
            expected_s = duration_ms / 1000
            if rendition.duration_s < MIN_COVERAGE * expected_s - 0.5:
                raise TranscodeError(f"decoding stopped at {rendition.duration_s:.1f} s of {expected_s:.1f} s "
                                     f"({rendition.uri}); the source is damaged. ffmpeg said:\n{ffmpeg_log}")
    for folder in ladder.folders:
        path = os.path.join(out, folder, "index.m3u8")
        with open(path) as fh:
            _write_atomic(path, event_to_vod(fh.read()))
    _write_atomic(os.path.join(out, "master.m3u8"), render_master(video, audio, subtitles))


def _write_atomic(path: str, text: str) -> None:
    """Replace `path` with `text` in one rename: a reader sees the old file or the new, never half."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
