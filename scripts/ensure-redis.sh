#!/usr/bin/env bash
# Start a local redis-server when nothing answers at REDIS_URL (default redis://127.0.0.1:6379/0).
set -euo pipefail
url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if redis-cli -u "$url" ping >/dev/null 2>&1; then exit 0; fi
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$hostport" ] && port=6379
case "$host" in
  127.0.0.1|localhost|"") ;;
  *) echo "ensure-redis: nothing answers at $url, and $host is not this machine" >&2; exit 1 ;;
esac
echo "ensure-redis: starting redis-server on 127.0.0.1:$port" >&2
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --logfile "${TMPDIR:-/tmp}/mediaserver-redis-$port.log"
for _ in $(seq 50); do
  redis-cli -u "$url" ping >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "ensure-redis: redis-server did not answer at $url" >&2; exit 1
