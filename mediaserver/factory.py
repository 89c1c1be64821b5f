"""The application factory (the Flask tutorial's pattern, `mediaserver.create_app` calls it):
configuration from the environment (`mediaserver.config`), overridden by `config` when given (tests do
this); the extensions bound to the app; the blueprints and the Socket.IO namespace registered.

Heavy modules load where they are used: an app makes its database engine, Redis client and RQ queues
on first use (`db.database`, `MediaServer`), and the web layer (blueprints, Socket.IO, CSRF) is built
only for an app that serves, so that `flask --app mediaserver --help`, `scan`, `transcode`, `users`
and `db upgrade` start in a fraction of a second (docs/PERFORMANCE.md).
"""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Flask's own commands that serve the app or look at its routes: the web layer is built for them, as
#: for every caller outside the `flask` command line (serve.py, deploy/wsgi.py, tests); the app's own
#: commands (scan, transcode, users, db) run without it.
SERVING_COMMANDS = frozenset({"run", "routes", "shell"})

#: Every Redis client of the app (job queues, party state, the Socket.IO message queue) gives up on a
#: connect or on a reply after REDIS_TIMEOUT_S (s): with Redis down or unreachable, a request that needs
#: it answers 503 within about that long (web/errors.py) instead of hanging (redis-py 8's default is
#: 5 s, older ones wait for ever). No retries (redis-py's from_url default): a refused connection fails
#: at once, and a pooled connection Redis closed is replaced on its next use. The subscriber's blocking
#: read (the message queue's listener) is not bound by it; RQ's worker raises the read timeout of its
#: own connection above its BLPOP wait.
REDIS_TIMEOUT_S = 2
REDIS_OPTIONS = {"socket_timeout": REDIS_TIMEOUT_S, "socket_connect_timeout": REDIS_TIMEOUT_S}


#: The largest engine.io packet (bytes; an HTTP long-poll body may carry several). A party event's
#: data is at most 4096 characters (party/commands.py); this bounds what is decoded at all.
SOCKETIO_MAX_PACKET_BYTES = 64 * 1024


def _message_queue(config: dict) -> dict:
    """SocketIO's message queue arguments. On Redis, python-socketio's RedisManager is built here with
    REDIS_OPTIONS (Flask-SocketIO's `message_queue=` passes no options to it). While Redis is down an
    emit still reaches this process's clients (the manager delivers locally, then publishes, and logs a
    failed publish); its listener thread reconnects by itself, after 1, 2, 4 ... at most 60 s."""
    url, channel = config["SOCKETIO_MESSAGE_QUEUE"], config["SOCKETIO_CHANNEL"]
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        import socketio

        return {"client_manager": socketio.RedisManager(url, channel=channel, redis_options=dict(REDIS_OPTIONS))}
    return {"message_queue": url, "channel": channel} if url else {}


class MediaServer(Flask):
    """The app: Flask, with the Redis client and the RQ queues it shares with the workers made on first
    use (a command that needs neither never imports redis or rq)."""

    @cached_property
    def redis(self) -> Redis:
        """The app's Redis client (REDIS_URL, REDIS_OPTIONS): RQ, party state, rate limits."""
        from redis import Redis

        return Redis.from_url(self.config["REDIS_URL"], **REDIS_OPTIONS)

    @cached_property
    def task_queue(self) -> Queue:
        """The transcode queue (MEDIASERVER_QUEUE)."""
        from rq import Queue

        return Queue(self.config["RQ_QUEUE"], connection=self.redis)

    @cached_property
    def scan_queue(self) -> Queue:
        """The queue of the admin's library scans (MEDIASERVER_SCAN_QUEUE)."""
        from rq import Queue

        return Queue(self.config["SCAN_QUEUE"], connection=self.redis)


def _serves() -> bool:
    """Whether an app built now serves: always, except under the `flask` command line running a command
    that is not one of SERVING_COMMANDS (Flask loads the app inside those commands, and before any
    other command runs or the list of commands is shown)."""
    import click

    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.command.name in SERVING_COMMANDS


def create_app(config: dict[str, Any] | None = None, web: bool | None = None) -> MediaServer:
    """Build the app.

    `config` overrides settings read from the environment; an `INSTANCE_PATH` key moves the instance
    folder (secret key, default SQLite database and data dir). `web`: build the web layer (blueprints,
    Socket.IO, security headers, the database connected and an SQLite file migrated at once); None
    decides by `_serves()`; workers pass False. Raises `ConfigError` on bad settings (under
    `flask ...`: click's "Error: configuration: <message>" and exit status 1).
    """
    import logging

    import click

    from . import cli, db, logs
    from . import config as config_module
    from .exceptions import ConfigError

    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("MEDIASERVER_INSTANCE")
    app = MediaServer(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        instance_relative_config=True,
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    try:
        app.config.update(config_module.from_environment(app.instance_path))
    except ConfigError as exc:
        if click.get_current_context(silent=True) is not None:  # under `flask ...`: "Error: <message>", exit 1
            raise click.ClickException(f"configuration: {exc}") from None
        raise
    app.config.update(config)
    # Flask's defaults hold the key (None), so setdefault would keep None: Lax unless `config` names one
    app.config["SESSION_COOKIE_SAMESITE"] = config.get("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    logs.setup(app.config["LOG_FORMAT"])  # text, or JSON lines (MEDIASERVER_LOG_FORMAT)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    db.init_app(app)
    cli.init_app(app)
    if web if web is not None else _serves():
        _init_web(app)
    return app


def _init_web(app: MediaServer) -> None:
    """The web layer: Socket.IO, the proxy fix, every blueprint and hook; the database connected (an
    SQLite file migrated) now, so that a bad DATABASE_URL stops the server at start."""
    from flask_socketio import SocketIO

    from . import db
    from .web import (account, admin, auth, errors, files, music, music_pages, ops, parties, playback, playlists,
                      playsession, search, security, titles, transcodes)

    db.database(app).engine  # noqa: B018 - connect (and migrate SQLite) before serving
    # One SocketIO per app (not a module global) so that tests can run several apps in one process;
    # its message queue on Redis lets several web processes share party rooms (Flask-SocketIO docs,
    # "Using Multiple Workers"). The async mode is explicit: serve.py asks for eventlet.
    # engine.io drops a connection whose packet is over SOCKETIO_MAX_PACKET_BYTES (its default is 1 MB);
    # each event's data is held to far less by the party namespace (party/commands.py, MAX_EVENT_CHARS).
    app.socketio = SocketIO(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"],
                            max_http_buffer_size=SOCKETIO_MAX_PACKET_BYTES,
                            **_message_queue(app.config))  # default CORS: same origin only
    if app.config.get("PROXY_FIX"):
        # Behind nginx (deploy/): the client's address, scheme and host come from X-Forwarded-*, for
        # url_for(_external=True) and for engine.io's same-origin check. Outermost, so Socket.IO sees it too.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = security.Int64Converter  # before any route: ids past BIGINT are 404
    # ops first: its request timer starts before any other before_request hook
    for module in (ops, errors, security, auth, account, files, titles, music, music_pages, search, playlists, playback,
                   admin, transcodes, parties, playsession):
        module.init_app(app)
