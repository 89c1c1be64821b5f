"""Watch parties (issue 5): a host-authoritative timeline shared over Socket.IO. Nothing here yet."""
