"""Pre-transcoding into an HLS ladder: rung choice (pure), the ffmpeg command (pure), RQ jobs (I/O)."""
