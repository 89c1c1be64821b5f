"""Rung choice: pure, no Flask, no I/O."""
import pytest

from mediaserver.transcode.ladder import SourceVideo, bitrate_for, display_size, plan_ladder


def sizes(rungs):
    return [(r.width, r.height) for r in rungs]


def test_1080p_source_gets_every_rung_tallest_first():
    assert sizes(plan_ladder(SourceVideo(1920, 1080))) == [(1920, 1080), (1280, 720), (854, 480), (640, 360)]


def test_no_rung_is_taller_than_the_source():
    assert [r.name for r in plan_ladder(SourceVideo(1280, 720))] == ["720p", "480p", "360p"]
    assert [r.name for r in plan_ladder(SourceVideo(1920, 800))] == ["720p", "480p", "360p"]


def test_source_below_360p_gets_one_rung_at_its_own_size():
    assert sizes(plan_ladder(SourceVideo(320, 240))) == [(320, 240)]


def test_own_size_rung_is_even_and_never_taller_than_an_odd_source():
    (rung,) = plan_ladder(SourceVideo(641, 359))
    assert (rung.width % 2, rung.height % 2) == (0, 0)
    assert rung.height <= 359 and rung.width <= 642


def test_square_odd_width_source_keeps_its_aspect_with_even_sizes():
    assert sizes(plan_ladder(SourceVideo(642, 642))) == [(480, 480), (360, 360)]


def test_anamorphic_pal_is_stretched_to_square_pixels():
    # 720x576 with SAR 64:45 is shown as 1024x576 (16:9).
    assert display_size(SourceVideo(720, 576, "64:45")) == (1024, 576)
    assert sizes(plan_ladder(SourceVideo(720, 576, "64:45"))) == [(854, 480), (640, 360)]


def test_unknown_sample_aspect_ratio_is_treated_as_square():
    assert display_size(SourceVideo(640, 480, "0:1")) == (640, 480)
    assert display_size(SourceVideo(640, 480, None)) == (640, 480)


def test_rotation_swaps_width_and_height():
    rungs = plan_ladder(SourceVideo(1920, 1080, rotation=90))
    assert sizes(rungs)[0] == (608, 1080)
    assert all(r.width < r.height for r in rungs)


def test_portrait_4_3_source():
    assert sizes(plan_ladder(SourceVideo(720, 1080))) == [(720, 1080), (480, 720), (320, 480), (240, 360)]


def test_bit_rates_follow_apples_example_ladder_and_grow_with_pixels():
    assert bitrate_for(640, 360) == 730_000
    assert bitrate_for(1280, 720) == 3_000_000
    assert bitrate_for(1920, 1080) == 6_000_000
    caps = [r.max_bitrate_bps for r in plan_ladder(SourceVideo(1920, 1080))]
    assert caps == sorted(caps, reverse=True)
    assert bitrate_for(16, 16) >= 150_000


@pytest.mark.parametrize("width,height", [(0, 720), (1280, 0), (-2, 10)])
def test_bad_sizes_are_rejected(width, height):
    with pytest.raises(ValueError):
        plan_ladder(SourceVideo(width, height))
