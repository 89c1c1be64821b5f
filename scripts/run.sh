#!/usr/bin/env bash
# `make run`: migrate, scan (a demo library when MEDIASERVER_LIBRARY is unset), two workers, the web server.
set -euo pipefail
venv="${VENV:-.venv}"
if [ -z "${MEDIASERVER_LIBRARY:-}" ]; then
  export MEDIASERVER_LIBRARY="$PWD/instance/demo-library"
  bash scripts/make-demo-library.sh "$MEDIASERVER_LIBRARY"
fi
"$venv/bin/flask" --app mediaserver db upgrade
"$venv/bin/flask" --app mediaserver scan
"$venv/bin/python" worker.py &                   # transcodes (and scans when free)
worker=$!
"$venv/bin/python" worker.py --queues scan &     # so a scan from Settings never waits behind a transcode
scanner=$!
trap 'kill $worker $scanner 2>/dev/null || true' EXIT INT TERM
echo "open http://${HOST:-127.0.0.1}:${PORT:-5000}/ (library: $MEDIASERVER_LIBRARY)" >&2
"$venv/bin/python" serve.py --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"  # eventlet: Socket.IO parties
