#!/usr/bin/env bash
# Make a small demo library with ffmpeg (for `make run` without MEDIASERVER_LIBRARY). Usage: make-demo-library.sh DIR
set -euo pipefail
dir="$1"
mkdir -p "$dir/Movies/Test Pattern (2026)" "$dir/Music"
movie="$dir/Movies/Test Pattern (2026)/Test Pattern (2026).mp4"
song="$dir/Music/Sine Sweep.flac"
if [ ! -f "$movie" ]; then
  echo "making the demo library in $dir" >&2
  ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=20" \
    -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=20" \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -ac 2 -shortest "$movie.part.mp4"
  mv "$movie.part.mp4" "$movie"
fi
if [ ! -f "$song" ]; then
  ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i "aevalsrc=sin(2*PI*(200+400*t/10)*t):s=44100:d=10" -ac 2 "$song.part.flac"
  mv "$song.part.flac" "$song"
fi
