"""A user's playback session (issue 14, item 6): one queue and timeline per user, held by the server,
played by one active device and controlled from every device. See docs/SESSION.md."""
