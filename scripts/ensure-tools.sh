#!/usr/bin/env bash
# Install the missing external tools (see external_tools.txt) with apt.
# Usage: scripts/ensure-tools.sh [venv] [ffmpeg] [redis] [chromium] [nginx] [node] [wrk]
set -euo pipefail
missing=()
for tool in "$@"; do
  case "$tool" in
    ffmpeg)   bins="ffmpeg ffprobe";          pkgs="ffmpeg" ;;
    redis)    bins="redis-server redis-cli";  pkgs="redis-server redis-tools" ;;
    chromium) bins="chromium";                pkgs="chromium" ;;
    nginx)    bins="nginx openssl";           pkgs="nginx openssl" ;;  # the deployment test (tests/e2e/test_deploy.py)
    node)     bins="node";                    pkgs="nodejs" ;;       # node --test tests/js/ (make test-js)
    wrk)      bins="wrk";                     pkgs="wrk" ;;          # bench/serve.py's load generator
    venv)     # Debian/Ubuntu ship venv and ensurepip apart from python3
              if python3 -c "import ensurepip, venv" >/dev/null 2>&1; then continue; fi
              missing+=(python3-venv); continue ;;
    *) echo "ensure-tools: unknown tool '$tool'" >&2; exit 2 ;;
  esac
  for bin in $bins; do
    # /usr/sbin (nginx) is not on a normal user's PATH
    if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then missing+=($pkgs); break; fi
  done
done
if [[ " $* " == *" ffmpeg "* ]] && command -v ffmpeg >/dev/null 2>&1; then
  major=$(ffmpeg -version | sed -n 's/^ffmpeg version n\{0,1\}\([0-9]*\).*/\1/p')
  if [ -n "$major" ] && [ "$major" -lt 5 ]; then
    echo "ensure-tools: ffmpeg $major is too old; version 5 or newer is needed (external_tools.txt)" >&2; exit 1
  fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-tools: installing with apt: ${missing[*]}" >&2
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1; then sudo="sudo"
else echo "ensure-tools: ${missing[*]} missing; install them (external_tools.txt) or run as root" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
