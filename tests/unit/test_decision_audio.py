"""Audio-only files (decision.py's BROWSER_AUDIO): direct play of what Chromium plays, with its MIME
type, and a transcode (an audio-only HLS) of everything else, with the reason. The container names are
ffprobe's format_name values as it prints them for each kind of file (../shared/music-tags/MANIFEST.md)."""
import pytest

from mediaserver.streams import StreamFacts
from mediaserver.transcode.decision import DIRECT, TRANSCODE, browser_audio_mime, decide, worth_pre_transcoding

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
MKV = "matroska,webm"
COVER = StreamFacts(1, "video", "mjpeg", width=300, height=300, attached_pic=True)


def audio(codec, index=0, **facts):
    return StreamFacts(index, "audio", codec, **facts)


@pytest.mark.parametrize("container,codec,mime", [
    ("flac", "flac", "audio/flac"),
    ("ogg", "flac", "audio/ogg"),
    ("mp3", "mp3", "audio/mpeg"),
    (MP4, "aac", "audio/mp4"),
    ("aac", "aac", "audio/aac"),  # ADTS
    ("ogg", "opus", "audio/ogg"),
    ("ogg", "vorbis", "audio/ogg"),
    (MKV, "opus", "audio/webm"),
    (MKV, "vorbis", "audio/webm"),
    ("wav", "pcm_s16le", "audio/wav"),
    ("wav", "pcm_s24le", "audio/wav"),
    ("wav", "pcm_u8", "audio/wav"),
    ("wav", "pcm_f32le", "audio/wav"),
])
def test_what_chromium_plays_is_played_directly_with_its_mime_type(container, codec, mime):
    decision = decide(container, [audio(codec)])
    assert (decision.method, decision.mime, decision.reasons) == (DIRECT, mime, ())
    assert browser_audio_mime(container, codec) == mime


@pytest.mark.parametrize("container,codec", [
    (MP4, "alac"),
    ("asf", "wmav2"), ("asf", "wmapro"), ("asf", "wmalossless"),
    ("ape", "ape"),
    ("wv", "wavpack"),
    ("tak", "tak"),
    ("mpc", "musepack7"), ("mpc8", "musepack8"),
    ("dsf", "dsd_lsbf_planar"), ("iff", "dsd_msbf"),
    ("ac3", "ac3"), ("eac3", "eac3"),
    ("tta", "tta"),
    ("ogg", "speex"),
    ("aiff", "pcm_s16be"),
    ("wav", "mp3"),          # a codec Chromium plays, in a container where it does not
    (MP4, "mp3"),            # not in the table: transcoded rather than guessed
    ("flac", "mp3"),         # a mismatch (ffprobe never says so, but the rule must not guess)
    (MKV, "flac"),           # FLAC in Matroska: not WebM's
    (MKV, "aac"),
    (None, "flac"),
])
def test_every_other_audio_only_file_is_transcoded_and_says_why(container, codec):
    decision = decide(container, [audio(codec)])
    assert decision.method == TRANSCODE and decision.mime is None and not decision.copy_video
    assert decision.reasons == (f"audio codec {codec} in container {container or 'unknown'} is not one a browser plays",)


def test_cover_art_and_data_streams_leave_a_file_audio_only():
    chapters = StreamFacts(2, "data", "bin_data")
    assert decide(MP4, [audio("aac"), COVER, chapters]).mime == "audio/mp4"  # an .m4b with its cover
    assert decide("flac", [audio("flac"), StreamFacts(1, "video", "png", width=500, height=500,
                                                      attached_pic=True)]).mime == "audio/flac"
    assert decide("wav", [audio("pcm_u8"), StreamFacts(1, "video", "png", attached_pic=True)]).mime == "audio/wav"


def test_several_audio_tracks_are_transcoded_so_that_each_is_offered():
    for container, codec in (("ogg", "vorbis"), (MP4, "aac"), (MKV, "opus")):
        decision = decide(container, [audio(codec, 0), audio(codec, 1), COVER])
        assert decision.method == TRANSCODE and decision.reasons == ("2 audio tracks (a browser plays one)",)


def test_a_video_file_is_not_judged_as_audio():
    theora = StreamFacts(0, "video", "theora", width=320, height=240)
    assert decide("ogg", [theora, audio("vorbis", 1)]).method == TRANSCODE  # a real picture: video rules
    h264 = StreamFacts(0, "video", "h264", "High", 41, "yuv420p", "progressive", "bt709", "1:1", 0, 1280, 720)
    assert decide(MP4, [h264, audio("aac", 1)]).mime == "video/mp4"
    assert decide(MKV, [h264, audio("opus", 1)]).mime is None  # remuxed: no file sent


def test_a_direct_play_audio_file_gets_no_ladder_but_every_other_file_does():
    def worth(container, streams):
        return worth_pre_transcoding(decide(container, streams), streams)
    assert not worth("flac", [audio("flac"), COVER])  # its cover is not video
    assert not worth(MP4, [audio("aac")])
    assert worth(MP4, [audio("alac")]) and worth("ape", [audio("ape")])  # a ladder is how they play
    assert worth(MKV, [audio("opus", 0), audio("opus", 1)])  # each of its tracks offered
    h264 = StreamFacts(0, "video", "h264", "High", 41, "yuv420p", "progressive", "bt709", "1:1", 0, 1280, 720)
    assert worth(MP4, [h264, audio("aac", 1)])  # direct-play video keeps its lower rungs
