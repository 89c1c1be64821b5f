"""Configuration read from the environment, validated once at start.

Every setting has an environment variable of the same name; `docs/` and the README list them.
A bad value raises `ConfigError` whose message names the variable, so `make run` fails with a
sentence a person can act on instead of a stack trace deep inside a request.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .exceptions import ConfigError
from .paths import check_library_root

#: Signed stream URLs live this long unless `MEDIASERVER_TOKEN_TTL_S` says otherwise (s).
#: Short on purpose: the player re-issues its URLs before they expire (see static/js/player.js).
DEFAULT_TOKEN_TTL_S = 15 * 60


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _positive_int(name: str, default: int, minimum: int = 1) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _intervals(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Comma-separated waits in s (`10,60`: two retries, after 10 s and 60 s); empty means no retry."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        values = tuple(int(v) for v in raw.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated whole seconds such as 10,60, got {raw!r}") from None
    if any(v < 0 for v in values):
        raise ConfigError(f"{name} must not hold negative waits, got {raw!r}")
    return values


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(name, default)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be one of 1/0/true/false/yes/no/on/off, got {raw!r}")


def load_secret_key(instance_path: str) -> str:
    """Return `SECRET_KEY`, or the key kept in `<instance>/secret_key` (created once, mode 0600)."""
    key = _env("SECRET_KEY")
    if key is not None:
        if len(key) < 16:
            raise ConfigError("SECRET_KEY must be at least 16 characters long")
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a private temporary name, then linked into place: a second process starting at
        # the same moment either wins the link or reads the complete winner, never a half file.
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if len(key) < 16:
        raise ConfigError(f"SECRET_KEY: the file {path} holds no usable key; delete it to make a new one")
    return key


def from_environment(instance_path: str) -> dict:
    """Build the app's configuration mapping from `os.environ`.

    Returns a dict of Flask config keys. Raises `ConfigError` naming the variable on a bad value.
    """
    instance = Path(instance_path)
    database_url = _env("DATABASE_URL", f"sqlite:///{instance / 'mediaserver.db'}")
    if "://" not in database_url:
        raise ConfigError(f"DATABASE_URL must be an SQLAlchemy URL such as sqlite:///path.db, got {database_url!r}")

    redis_url = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    if urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix://, got {redis_url!r}")

    library = [p for p in (_env("MEDIASERVER_LIBRARY", "") or "").split(os.pathsep) if p]
    for folder in library:
        try:  # relative, `/`, `/etc`...: refused before it is looked at (paths.check_library_root)
            check_library_root(folder)
        except ValueError as exc:
            raise ConfigError(f"MEDIASERVER_LIBRARY: {exc}") from None
        if not Path(folder).is_dir():
            raise ConfigError(f"MEDIASERVER_LIBRARY names {folder!r}, which is not a folder")

    return {
        "SECRET_KEY": load_secret_key(instance_path),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LIBRARY_ROOTS": [str(Path(p).resolve()) for p in library],
        "DATA_DIR": str(Path(_env("MEDIASERVER_DATA_DIR", str(instance / "data"))).resolve()),
        "TOKEN_TTL_S": _positive_int("MEDIASERVER_TOKEN_TTL_S", DEFAULT_TOKEN_TTL_S),
        # Security (README "Security"): Secure cookies (set it behind TLS); rate limits per minute:
        # failed logins per client address and per account, guest joins per address, parties per user.
        "SECURE_COOKIES": _flag("MEDIASERVER_SECURE_COOKIES", False),
        "LOGIN_LIMIT_PER_IP": _positive_int("MEDIASERVER_LOGIN_LIMIT_PER_IP", 10),
        "LOGIN_LIMIT_PER_ACCOUNT": _positive_int("MEDIASERVER_LOGIN_LIMIT_PER_ACCOUNT", 5),
        "PARTY_JOIN_LIMIT_PER_IP": _positive_int("MEDIASERVER_PARTY_JOIN_LIMIT_PER_IP", 20),
        "PARTY_CREATE_LIMIT_PER_USER": _positive_int("MEDIASERVER_PARTY_CREATE_LIMIT_PER_USER", 10),
        # Watch-party timers (ms; party/model.py's PartyTimings, issue 5's values by default): how long the
        # room waits for a stalled member and for a title's first load, how long a disconnected host keeps
        # the role, when a silent member counts as offline, and the `state` heartbeat.
        "PARTY_REBUFFER_WAIT_MS": _positive_int("MEDIASERVER_PARTY_REBUFFER_WAIT_MS", 10_000),
        "PARTY_FIRST_LOAD_WAIT_MS": _positive_int("MEDIASERVER_PARTY_FIRST_LOAD_WAIT_MS", 30_000),
        "PARTY_HOST_GRACE_MS": _positive_int("MEDIASERVER_PARTY_HOST_GRACE_MS", 30_000),
        "PARTY_PRESENCE_TIMEOUT_MS": _positive_int("MEDIASERVER_PARTY_PRESENCE_TIMEOUT_MS", 15_000),
        "PARTY_HEARTBEAT_MS": _positive_int("MEDIASERVER_PARTY_HEARTBEAT_MS", 5_000, minimum=100),
        "RQ_QUEUE": _env("MEDIASERVER_QUEUE", "transcode"),
        "SCAN_QUEUE": _env("MEDIASERVER_SCAN_QUEUE", "scan"),
        "FFMPEG": _tool("MEDIASERVER_FFMPEG", "ffmpeg"),
        "FFPROBE": _tool("MEDIASERVER_FFPROBE", "ffprobe"),
        "PROBE_TIMEOUT_S": _positive_int("MEDIASERVER_PROBE_TIMEOUT_S", 60),
        "PROBE_WORKERS": _positive_int("MEDIASERVER_PROBE_WORKERS", os.cpu_count() or 1),
        "AUTO_TRANSCODE_DEFAULT": _flag("MEDIASERVER_AUTO_TRANSCODE", True),
        # A live (EVENT) ladder is served while its job's heartbeat (written every second) is younger than this (s).
        "LIVE_STALE_S": _positive_int("MEDIASERVER_LIVE_STALE_S", 30),
        "TRANSCODE_RETRY_INTERVALS_S": _intervals("MEDIASERVER_TRANSCODE_RETRY_INTERVALS_S", (10, 60)),
        # Socket.IO (watch parties): "threading" (any server) or "eventlet" (serve.py); the message
        # queue is REDIS_URL so that parties span web processes; the channel separates installs.
        "SOCKETIO_ASYNC_MODE": _choice("MEDIASERVER_ASYNC_MODE", "threading", ("threading", "eventlet")),
        "SOCKETIO_MESSAGE_QUEUE": redis_url,
        "SOCKETIO_CHANNEL": _env("MEDIASERVER_SOCKETIO_CHANNEL", "mediaserver-socketio"),
        # serve.py closes a connection that sends nothing for this long (s): a request sent half-way (a
        # slowloris) or a dead client. Above Socket.IO's 25 s ping interval, which a live client answers.
        "SOCKET_TIMEOUT_S": _positive_int("MEDIASERVER_SOCKET_TIMEOUT_S", 30),
        "TMDB_API_KEY": _env("TMDB_API_KEY"),
        "TMDB_API_BASE": _env("TMDB_API_BASE", "https://api.themoviedb.org/3"),
        "TMDB_TIMEOUT_S": _positive_int("TMDB_TIMEOUT_S", 10),
        "TMDB_MAX_RETRIES": _positive_int("TMDB_MAX_RETRIES", 4, minimum=0),
        # Logging (mediaserver/logs.py): "text" lines, or "json" (one object per line, with the extra fields).
        "LOG_FORMAT": _choice("MEDIASERVER_LOG_FORMAT", "text", ("text", "json")),
        # prometheus_client's multiprocess mode (mediaserver/metrics.py) reads this variable itself; checked here.
        "PROMETHEUS_MULTIPROC_DIR": _metrics_dir("PROMETHEUS_MULTIPROC_DIR"),
        # Behind nginx (deploy/): trust this many proxies' X-Forwarded-For/Proto/Host (0: none), and
        # let nginx send stream files: the app answers `X-Accel-Redirect: <prefix>/...` after its checks.
        "PROXY_FIX": proxy_fix_hops(),
        "X_ACCEL_PREFIX": _x_accel_prefix("MEDIASERVER_X_ACCEL_PREFIX"),
    }


def _proxy_count(name: str) -> int:
    """How many reverse proxies stand in front (werkzeug's ProxyFix counts): 0/1/true/false or a number."""
    raw = _env(name)
    if raw is None:
        return 0
    if raw.isdigit():
        return int(raw)
    return int(_flag(name, False))


def proxy_fix_hops() -> int:
    """MEDIASERVER_PROXY_FIX from the environment: how many proxies' X-Forwarded-* the app trusts (0:
    none). ConfigError naming the variable on a bad value."""
    return _proxy_count("MEDIASERVER_PROXY_FIX")


def is_loopback_bind(address: str) -> bool:
    """Can only this machine reach the listening address `address`, as gunicorn takes it (`HOST:PORT`,
    `HOST`, `[IPV6]:PORT`, `unix:PATH`, `fd://N`)? True for a unix socket, `localhost` and loopback IPs
    (127.0.0.0/8, ::1); False for every other address, an empty host (all interfaces) and an inherited
    socket (`fd://`: where it listens is not known here)."""
    if address.startswith("unix:"):
        return True
    if address.startswith("fd://"):
        return False
    host = address
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_proxied_bind(addresses: list[str], hops: int) -> None:
    """Refuse to serve on a public address while trusting a proxy's headers: ConfigError naming
    MEDIASERVER_PROXY_FIX when `hops` > 0 and any of `addresses` (see `is_loopback_bind`) is reachable
    from elsewhere. A client reaching the app directly could then send its own X-Forwarded-For, and
    take a new address, past the per-address login limit, at every request. Nothing when `hops` is 0."""
    public = [address for address in addresses if not is_loopback_bind(address)]
    if hops and public:
        raise ConfigError(f"MEDIASERVER_PROXY_FIX is set: listen on 127.0.0.1, ::1 or a unix socket only, "
                          f"behind the proxy, not on {', '.join(public)} (or unset MEDIASERVER_PROXY_FIX)")


def _x_accel_prefix(name: str) -> str | None:
    """An nginx internal location such as `/_protected` (no trailing slash), or None: the app sends files."""
    raw = _env(name)
    if raw is None:
        return None
    prefix = raw.rstrip("/")
    if not prefix.startswith("/") or any(c in prefix for c in "?#% \t") or "/.." in prefix:
        raise ConfigError(f"{name} must be a URL path such as /_protected, got {raw!r}")
    return prefix


def _metrics_dir(name: str) -> str | None:
    """The shared folder of prometheus_client's multiprocess mode, when set: it must exist (empty at start)."""
    value = _env(name)
    if value is not None and not Path(value).is_dir():
        raise ConfigError(f"{name} names {value!r}, which is not a folder: create it (empty) before starting")
    return value


def _tool(name: str, default: str) -> str:
    value = _env(name, default)
    if shutil.which(value) is None:
        raise ConfigError(f"{name}: {value!r} is not an executable on PATH (install ffmpeg: see external_tools.txt)")
    return value


# --- Typed settings: what each use case reads, built from the app's config mapping at its edge -----

def hls_root(data_dir: str) -> str:
    """`<data_dir>/hls`, where published ladders live (one folder per job attempt)."""
    return os.path.join(data_dir, "hls")


@dataclass(frozen=True)
class TranscodeSettings:
    """What transcode jobs need (README "Configuration"): the ffmpeg and ffprobe programs, the data dir
    (ladders in `<data_dir>/hls/`, WebVTT conversions in `<data_dir>/subtitles/`), the age (s) after
    which a running job's heartbeat means its worker died (`MEDIASERVER_LIVE_STALE_S`), and the waits
    (s) before each retry of a job that failed for a reason that may pass."""

    data_dir: str
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    live_stale_s: float = 30.0
    retry_intervals_s: tuple[int, ...] = (10, 60)

    @property
    def hls_root(self) -> str:
        """`<data_dir>/hls`, where published ladders live."""
        return hls_root(self.data_dir)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TranscodeSettings:
        """From the app's config mapping (`from_environment`'s keys). Raises KeyError when one is missing."""
        return cls(data_dir=config["DATA_DIR"], ffmpeg=config["FFMPEG"], ffprobe=config["FFPROBE"],
                   live_stale_s=float(config["LIVE_STALE_S"]),
                   retry_intervals_s=tuple(config["TRANSCODE_RETRY_INTERVALS_S"]))


@dataclass(frozen=True)
class LibrarySettings:
    """What the library use case needs: the defaults of the admin's preferences (library folders,
    transcode after a scan, the TMDB key: `library/prefs.py`), how a scan probes (ffprobe, its
    timeout in s, how many run at once), TMDB's API root, timeout (s) and retries, ffmpeg (stand-in
    poster frames) and the data dir (`tmdb-cache/`, `images/`)."""

    data_dir: str
    roots: tuple[str, ...] = ()
    auto_transcode: bool = True
    tmdb_api_key: str | None = None
    tmdb_api_base: str = "https://api.themoviedb.org/3"
    tmdb_timeout_s: int = 10
    tmdb_max_retries: int = 4
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    probe_timeout_s: int = 60
    probe_workers: int = 1

    @property
    def tmdb_cache_dir(self) -> str:
        """`<data_dir>/tmdb-cache`: TMDB's answers, kept without expiry."""
        return os.path.join(self.data_dir, "tmdb-cache")

    @property
    def hls_root(self) -> str:
        """`<data_dir>/hls`: a removed file's ladders are deleted from there."""
        return hls_root(self.data_dir)

    @property
    def images_dir(self) -> str:
        """`<data_dir>/images`: posters and backdrops downloaded once, and stand-in frames."""
        return os.path.join(self.data_dir, "images")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LibrarySettings:
        """From the app's config mapping (`from_environment`'s keys). Raises KeyError when one is missing."""
        return cls(data_dir=config["DATA_DIR"], roots=tuple(config["LIBRARY_ROOTS"]),
                   auto_transcode=bool(config["AUTO_TRANSCODE_DEFAULT"]), tmdb_api_key=config["TMDB_API_KEY"],
                   tmdb_api_base=config["TMDB_API_BASE"], tmdb_timeout_s=config["TMDB_TIMEOUT_S"],
                   tmdb_max_retries=config["TMDB_MAX_RETRIES"], ffmpeg=config["FFMPEG"], ffprobe=config["FFPROBE"],
                   probe_timeout_s=config["PROBE_TIMEOUT_S"], probe_workers=config["PROBE_WORKERS"])
